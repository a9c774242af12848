import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_TYPE_PREFIX } from "../core/resourceKinds";

/** The directory of the nearest package.json at or above `start`. */
export function packageRootOf(start: string): string {
    for (let dir = start; ; dir = dirname(dir)) {
        if (existsSync(join(dir, "package.json"))) return dir;
        if (dirname(dir) === dir) throw new Error(`no package.json at or above ${start}`);
    }
}

/** This package: its root (a checkout, or node_modules/<name> where it is installed) and its name. */
const PACKAGE_ROOT = packageRootOf(__dirname);
const PACKAGE_NAME: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")).name;

/** A module of this package as the loader names it: its path from the package root, with forward slashes. */
export function packageRelative(modulePath: string): string {
    const rel = relative(PACKAGE_ROOT, modulePath);
    if (rel.startsWith("..") || rel === "") throw new Error(`${modulePath} is not inside the package at ${PACKAGE_ROOT}`);
    return rel.split(sep).join("/");
}

/**
 * Finds and loads a provider implementation in the dynamic-provider process. Only its text goes
 * into the state, so it captures nothing and uses only its parameters and Node's globals (no
 * comments inside: they would be stored too). The engine sets the process's cwd to the program's
 * directory: the package is the program's own when the nearest package.json there names it (a
 * checkout of this repository, at any path), else the one the program installed as a dependency.
 * A TypeScript module (a checkout; the packed package ships compiled JS) is loaded through the
 * package's own tsx (esbuild), registered once per process. Not ts-node: it loads the TypeScript
 * compiler first and transpiles with it, 1.2-1.3 s of CPU more in every dynamic-provider process
 * (measured here for the LtspServer and NodeAssignment implementations: 2.9-3.3 s against 1.7 s).
 */
export function loadImplementation(pkg: string, rel: string, exportName: string): pulumi.dynamic.ResourceProvider {
    const { dirname, join } = require("node:path");
    let root = process.cwd();
    while (!require("node:fs").existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
    if (require(join(root, "package.json")).name !== pkg) root = dirname(require.resolve(`${pkg}/package.json`, { paths: [root] }));
    const g = globalThis as { __netbootTsx?: boolean };
    if (rel.endsWith(".ts") && !g.__netbootTsx) {
        require(require.resolve("tsx/cjs/api", { paths: [root] })).register();
        g.__netbootTsx = true;
    }
    return require(join(root, rel))[exportName];
}

/**
 * The `__provider` the engine keeps for a resource whose implementation is `exportName` of the
 * module at `modulePath`: a CommonJS module whose `handler()` (called once per process by the
 * dynamic-provider host) returns that implementation, loaded by `loadImplementation`. It names the
 * package and the module's path inside it, never an absolute path, so a state written in one
 * checkout is refreshed or destroyed from a clone anywhere else, or from a program that installed
 * the package.
 *
 * Why not `pulumi.dynamic.Resource`: it stores `serializeFunction(() => provider)`, which wraps
 * every method closure in its own envelope (2.3 KB for a four-method loader), kept twice in each
 * resource's state, and it serializes again for every resource whose provider is a new object.
 * This text is about 0.8 KB, and a string.
 */
export function providerText(modulePath: string, exportName: string): string {
    const args = [PACKAGE_NAME, packageRelative(modulePath), exportName].map((a) => JSON.stringify(a)).join(", ");
    return `exports.handler = () => (${loadImplementation.toString()})(${args});\n`;
}

/**
 * A dynamic resource (type `pulumi-nodejs:dynamic/netboot:<type>`, the engine's dynamic-provider
 * host runs it) whose provider is `exportName` of the module at `modulePath`. What
 * `pulumi.dynamic.Resource` does, with `providerText` as the stored provider.
 */
export abstract class LazyDynamicResource extends pulumi.CustomResource {
    constructor(modulePath: string, exportName: string, type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super(`${RESOURCE_TYPE_PREFIX}${type}`, name, { ...props, __provider: providerText(modulePath, exportName) }, opts);
    }
}

/** A resource as `pulumi stack export` writes it (only what adoptPortableProviders reads and writes). */
export interface ExportedResource {
    urn: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The earlier loader's provider captured an absolute `modulePath`; this one never does. */
export function isAbsolutePathProvider(provider: unknown): boolean {
    return typeof provider === "string" && /\bmodulePath: "\//.test(provider);
}

/**
 * Makes a state written by the earlier loader portable. The engine keeps a dynamic resource's
 * provider twice: in its inputs, which every `up` replaces with the current program's, and in
 * its outputs, which only a create or update replaces, and which refresh and destroy run. So
 * after one `up` with this loader, an unchanged resource has the portable provider in its inputs
 * and the absolute-path one in its outputs: this copies the first over the second (what an
 * update would have done) and returns what it changed and what still needs that `up` first.
 */
export function adoptPortableProviders(resources: ExportedResource[]): { adopted: string[]; needUp: string[] } {
    const adopted: string[] = [];
    const needUp: string[] = [];
    for (const resource of resources) {
        const current = resource.inputs?.__provider;
        if (!resource.outputs || !isAbsolutePathProvider(resource.outputs.__provider)) continue;
        if (typeof current !== "string" || isAbsolutePathProvider(current)) {
            needUp.push(resource.urn);
            continue;
        }
        resource.outputs.__provider = current;
        adopted.push(resource.urn);
    }
    return { adopted, needUp };
}
