import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adoptPortableProviders, type ExportedResource, isAbsolutePathProvider, packageRelative, providerText } from "../../lib/provider/lazy";

const ROOT = resolve(__dirname, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "netboot-lazy-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** NodeAssignment's provider as the state keeps it. */
const serialized = () => providerText(join(ROOT, "resources", "nodeAssignment.ts"), "nodeAssignmentProvider");

/**
 * Loads the serialized provider the way the dynamic-provider process does (require-from-string,
 * in a process whose cwd is the program's directory) and runs its check on a node.
 */
function checkFrom(cwd: string, text: string): unknown {
    const file = join(scratch, "provider.js");
    writeFileSync(file, text);
    const script = `
        const provider = require(${JSON.stringify(join(ROOT, "node_modules", "require-from-string"))})(require("fs").readFileSync(${JSON.stringify(file)}, "utf8")).handler();
        provider.check({}, { nodeName: "pc01", mac: "52-54-00-AB-CD-EF", hostname: "pc01", image: "thin" }).then((r) => console.log(JSON.stringify(r)));
    `;
    return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd, encoding: "utf8" }));
}

describe("the lazy provider in state", () => {
    it("names the package and the module inside it, never this checkout's path", async () => {
        const text = serialized();
        expect(text).toMatch(/^exports\.handler = \(\) => \(function loadImplementation\(pkg, rel, exportName\) \{\n/);
        expect(text).toContain('})("boot-iac", "resources/nodeAssignment.ts", "nodeAssignmentProvider");');
        expect(text).not.toContain(ROOT);
        expect(isAbsolutePathProvider(text)).toBe(false);
        expect(packageRelative(join(ROOT, "lib", "provider", "lazy.ts"))).toBe("lib/provider/lazy.ts");
        expect(() => packageRelative("/elsewhere/x.ts")).toThrow("is not inside the package");
    });

    it("loads from the program's own checkout, from a folder below it, and from a program that installed the package", async () => {
        const text = serialized();
        // NodeAssignment's check normalizes the MAC: the module was found and ran.
        const macOf = (result: unknown) => (result as { inputs?: { mac?: string }; failures?: unknown }).inputs?.mac;
        expect(macOf(checkFrom(ROOT, text))).toBe("52:54:00:ab:cd:ef");
        expect(macOf(checkFrom(join(ROOT, "stacks"), text))).toBe("52:54:00:ab:cd:ef");
        const consumer = join(scratch, "consumer");
        mkdirSync(join(consumer, "node_modules"), { recursive: true });
        writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer" }));
        symlinkSync(ROOT, join(consumer, "node_modules", "boot-iac"));
        expect(macOf(checkFrom(consumer, text))).toBe("52:54:00:ab:cd:ef");
    }, 120_000); // three node processes, each compiling the module with tsx
});

describe("adoptPortableProviders (scripts/portable-state)", () => {
    const legacy = 'with({ tsconfig: "/old/tsconfig.json", modulePath: "/old/resources/nodeAssignment.ts", exportName: "x" })';
    const portable = 'with({ pkg: "boot-iac", rel: "resources/nodeAssignment.ts", exportName: "x" })';

    it("copies the portable provider of the inputs over the absolute-path one of the outputs", () => {
        const resources: ExportedResource[] = [
            { urn: "urn:stack", outputs: {} },
            { urn: "urn:node", inputs: { __provider: portable, mac: "m" }, outputs: { __provider: legacy, mac: "m" } },
            { urn: "urn:done", inputs: { __provider: portable }, outputs: { __provider: portable } },
        ];
        expect(adoptPortableProviders(resources)).toEqual({ adopted: ["urn:node"], needUp: [] });
        expect(resources[1].outputs).toEqual({ __provider: portable, mac: "m" });
    });

    it("leaves a resource whose inputs still hold the old provider, and says an up is needed", () => {
        const resources: ExportedResource[] = [{ urn: "urn:node", inputs: { __provider: legacy }, outputs: { __provider: legacy } }];
        expect(adoptPortableProviders(resources)).toEqual({ adopted: [], needUp: ["urn:node"] });
        expect(resources[0].outputs?.__provider).toBe(legacy);
    });
});
