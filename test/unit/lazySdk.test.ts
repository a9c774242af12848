import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFERRED, isDeferred, loadOnFirstUse } from "../../lib/runtime/lazySdk";

const ROOT = resolve(__dirname, "..", "..");
const SDK = join(ROOT, "node_modules", "@pulumi", "pulumi");

/** Runs `script` in node started as the language host starts the program: Pulumi.yaml's nodeargs, in stacks/. */
function inProgramProcess(script: string): unknown {
    const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8"));
    const nodeargs: string[] = project.runtime.options.nodeargs.split(/\s+/);
    const cwd = join(ROOT, project.main.split("/").slice(0, -1).join(sep));
    return JSON.parse(execFileSync(process.execPath, [...nodeargs, "-e", script], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
}

const LOADED = `Object.keys(require.cache).filter((f) => /node_modules\\/(typescript|@npmcli\\/arborist)\\//.test(f)).map((f) => f.match(/node_modules\\/(typescript|@npmcli\\/arborist)\\//)[1])`;

describe("the program's preload (lib/runtime/lazySdk.ts)", () => {
    it("defers exactly the two requests, and only from the SDK files that make them", () => {
        expect(isDeferred("typescript", join(SDK, "typescript-shim.js"))).toBe(true);
        expect(isDeferred("@npmcli/arborist", join(SDK, "runtime", "closure", "codePaths.js"))).toBe(true);
        expect(isDeferred("typescript", join(ROOT, "node_modules", "ts-node", "dist", "index.js"))).toBe(false);
        expect(isDeferred("typescript", join(SDK, "runtime", "closure", "codePaths.js"))).toBe(false);
        expect(isDeferred("zod", join(SDK, "typescript-shim.js"))).toBe(false);
        expect(isDeferred("typescript", undefined)).toBe(false);
        // The SDK files still make those requests (an SDK upgrade that moved them would make the preload do nothing).
        for (const [request, from] of Object.entries(DEFERRED)) {
            expect(readFileSync(join(SDK, ...from.split("/")), "utf8")).toContain(`require("${request}")`);
        }
    });

    it("a module stands in unloaded through __importStar and tsx's checks, and is the module once used", () => {
        let loads = 0;
        const stand = loadOnFirstUse(() => {
            loads++;
            return { version: "1.2.3", parse: (s: string) => s.length };
        }) as { version: string; parse: (s: string) => number; __esModule?: boolean };
        expect(stand.__esModule).toBe(true);
        expect("__esModule" in stand).toBe(true);
        expect(Object.getOwnPropertyDescriptor(stand, "module.exports")).toBeUndefined();
        expect(loads).toBe(0);
        expect(stand.version).toBe("1.2.3");
        expect(stand.parse("abcd")).toBe(4);
        expect(Object.keys(stand)).toEqual(["version", "parse"]);
        expect(loads).toBe(1);
    });

    it("in the program's process, @pulumi/pulumi loads without TypeScript or arborist", () => {
        expect(inProgramProcess(`require("@pulumi/pulumi"); console.log(JSON.stringify(${LOADED}))`)).toEqual([]);
    });

    it("in the program's process, function serialization (pulumi.dynamic.Resource) still works, loading TypeScript then", () => {
        const script = `
            const pulumi = require("@pulumi/pulumi");
            const provider = { async create(inputs) { return { id: "x", outs: { n: inputs.n + 1 } }; } };
            pulumi.runtime.serializeFunction(() => provider).then(async (s) => {
                const loaded = ${LOADED};
                const created = await require("require-from-string")(s.text).handler().create({ n: 41 });
                console.log(JSON.stringify({ loaded, created }));
            });
        `;
        expect(inProgramProcess(script)).toEqual({ loaded: ["typescript"], created: { id: "x", outs: { n: 42 } } });
    });
});
