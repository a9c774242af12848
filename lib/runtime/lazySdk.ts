import Module from "node:module";
import { sep } from "node:path";

/**
 * Preloaded (`node --require`) into the Pulumi program's process by Pulumi.yaml's `nodeargs`:
 * defers two modules that `require("@pulumi/pulumi")` loads and a preview never uses. The SDK's
 * index loads `runtime`, whose function serialization requires the TypeScript compiler (to parse
 * function text) and @npmcli/arborist (with pacote, sigstore, tar: to list a serialized
 * function's packages) at load time: 0.5-0.6 s of CPU of the 1.1-1.3 s the SDK takes to load
 * (docs/preview-speed.md). Each is now loaded on first use instead, e.g. by
 * `pulumi.dynamic.Resource` (stacks/scale.ts), and then behaves as the module itself. Our own
 * resources store their provider as text (lib/provider/lazy.ts) and serialize no function.
 */

/** Module requests deferred, by the SDK file (under `@pulumi/pulumi/`) that requires them. */
export const DEFERRED: Readonly<Record<string, string>> = {
    typescript: "typescript-shim.js",
    "@npmcli/arborist": "runtime/closure/codePaths.js",
};

/** Whether `request`, required by the file `parentFile`, is one to load on first use. */
export function isDeferred(request: string, parentFile: string | undefined): boolean {
    const from = Object.hasOwn(DEFERRED, request) ? DEFERRED[request] : undefined;
    return from !== undefined && (parentFile?.endsWith(["", "@pulumi", "pulumi", ...from.split("/")].join(sep)) ?? false);
}

/**
 * An object that stands for the module `load()` returns and loads it on first use. Before that it
 * answers only what a loader asks of every module without using it: `__esModule` (so TypeScript's
 * `__importStar` keeps it as it is instead of copying every property, which would load it) and
 * tsx's `module.exports` (an ES module's default, which a CommonJS module has not).
 */
export function loadOnFirstUse(load: () => object): object {
    let module: object | undefined;
    const real = () => {
        module ??= load();
        return module;
    };
    const unloaded = (key: string | symbol) => module === undefined && (key === "__esModule" || key === "module.exports");
    return new Proxy(
        {},
        {
            get: (_target, key) => (unloaded(key) ? key === "__esModule" || undefined : Reflect.get(real(), key)),
            has: (_target, key) => (unloaded(key) ? key === "__esModule" : Reflect.has(real(), key)),
            ownKeys: () => Reflect.ownKeys(real()),
            getOwnPropertyDescriptor: (_target, key) => {
                if (unloaded(key)) {
                    return key === "__esModule" ? { value: true, writable: true, enumerable: false, configurable: true } : undefined;
                }
                const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
                // The proxy's target is an empty object: a property it lacks may only be reported configurable.
                return descriptor && { ...descriptor, configurable: true };
            },
        },
    );
}

type Load = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const load = loader._load;
loader._load = function (this: unknown, request, parent, isMain) {
    if (!isDeferred(request, parent?.filename)) return load.call(this, request, parent, isMain);
    return loadOnFirstUse(() => load.call(this, request, parent, isMain) as object);
};
