import { createHash } from "node:crypto";
import { copyFileSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../lab/harness";
import { cloneCheckout, pulumi, pulumiEnv, ROOT, scratchDir, writeFiles } from "./helpers";

/**
 * The check for the library, with the real tools: `npm pack` a clone of this checkout,
 * install the tarball into a fresh Pulumi TypeScript project, declare an LtspServer and a
 * NodeAssignment there, and `pulumi preview` (only check runs: no host is needed). The program
 * is type-checked by Pulumi's ts-node against the package's declarations.
 */
const scratch = scratchDir("packed");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const ours = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** OpenSSH's fingerprint of a public key: unpadded base64 of the SHA-256 of its key blob (what `ssh-keygen -lf` prints). */
function fingerprint(publicKeyLine: string): string {
    const blob = Buffer.from(publicKeyLine.split(" ")[1], "base64");
    return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

const PROGRAM = (hostKeyFingerprint: string) => `import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { LtspServer, LtspServerArgs, NodeAssignment } from "boot-iac";

const pc01 = new NodeAssignment("pc01", { mac: "52-54-00-00-07-01", hostname: "pc01", image: "thin", ltspConf: { MOSIX: "N" } });
const args: LtspServerArgs = {
    connection: { host: "192.0.2.10", privateKey: pulumi.secret(readFileSync("unit-test-key", "utf8")), hostKeyFingerprint: "${hostKeyFingerprint}" },
    lan: { interface: "enp2s0", address: "192.0.2.10/24" },
    dhcp: { mode: "proxy" },
    images: ["thin"],
    nodes: [pc01.spec],
};
new LtspServer("ltsp", args);
// A second server with no nodes: all its inputs are known at preview, so its check renders its files.
new LtspServer("ltsp-b", { ...args, connection: { ...args.connection, host: "192.0.2.11" }, lan: { interface: "enp2s0", address: "192.0.2.11/24" }, nodes: [] });
export const mac = pc01.mac;
`;

interface PreviewStep {
    op: string;
    urn: string;
    newState?: { inputs?: Record<string, unknown> };
}

describe("the packed library", () => {
    it("npm pack, install into a fresh Pulumi project, new LtspServer + NodeAssignment: preview works", async () => {
        const source = cloneCheckout(join(scratch, "source"));
        let started = Date.now();
        const packed = await run("npm", ["pack", "--pack-destination", scratch], { cwd: source, timeoutMs: 10 * 60_000 });
        expect(packed.code, packed.output).toBe(0);
        const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"))!;
        expect(tarball).toBe(`${ours.name}-${ours.version}.tgz`);
        console.log(`npm pack (with the prepack build): ${((Date.now() - started) / 1000).toFixed(1)} s`);
        // What the package ships: compiled code with declarations, the templates it renders, and no TypeScript sources.
        const listing = await run("tar", ["-tzf", join(scratch, tarball)]);
        const files = listing.stdout.split("\n").filter(Boolean);
        for (const file of [
            "package/dist/index.js",
            "package/dist/index.d.ts",
            "package/dist/resources/ltspServer.js",
            "package/dist/templates/ltsp.conf.hbs",
        ]) {
            expect(files).toContain(file);
        }
        expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);

        const project = join(scratch, "consumer");
        const versions = { ...ours.dependencies, ...ours.devDependencies };
        writeFiles(project, {
            "package.json": JSON.stringify({
                name: "consumer",
                private: true,
                dependencies: {
                    [ours.name]: `file:../${tarball}`,
                    "@pulumi/pulumi": versions["@pulumi/pulumi"],
                    typescript: versions.typescript,
                    "ts-node": versions["ts-node"],
                    "@types/node": versions["@types/node"],
                },
            }),
            "Pulumi.yaml": ["name: consumer", "runtime:", "  name: nodejs", "  options:", "    typescript: true", "main: index.ts", ""].join("\n"),
            "tsconfig.json": JSON.stringify({
                compilerOptions: {
                    strict: true,
                    target: "es2022",
                    module: "commonjs",
                    moduleResolution: "node",
                    esModuleInterop: true,
                    skipLibCheck: true,
                },
            }),
            "index.ts": PROGRAM(fingerprint(readFileSync(join(ROOT, "test", "fixtures", "unit-test-key.pub"), "utf8"))),
        });
        copyFileSync(join(ROOT, "test", "fixtures", "unit-test-key"), join(project, "unit-test-key"));

        // Packages come from npm's cache where it has them (this machine installed the same
        // versions for the checkout), else from the registry.
        started = Date.now();
        const installed = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
            cwd: project,
            timeoutMs: 10 * 60_000,
        });
        expect(installed.code, installed.output).toBe(0);
        console.log(
            `npm install of the tarball into a fresh project (--prefer-offline): ${((Date.now() - started) / 1000).toFixed(1)} s; ${installed.stdout.trim()}`,
        );

        const env = pulumiEnv(join(scratch, "state"));
        await pulumi(project, env, ["stack", "init", "consumer"]);
        const preview = await pulumi(project, env, ["preview", "--json", "--stack", "consumer"]);
        const steps: PreviewStep[] = JSON.parse(preview.stdout).steps;
        const created = steps.filter((s) => s.op === "create").map((s) => s.urn.split("::").slice(-2).join("::"));
        expect(created.sort()).toEqual([
            "pulumi-nodejs:dynamic/netboot:LtspServer::ltsp",
            "pulumi-nodejs:dynamic/netboot:LtspServer::ltsp-b",
            "pulumi-nodejs:dynamic/netboot:NodeAssignment::pc01",
            "pulumi:pulumi:Stack::consumer-consumer",
        ]);
        // The package's checks ran: the MAC is in the normal form, the server's files rendered from its templates.
        const node = steps.find((s) => s.urn.endsWith("::pc01"))!;
        expect(node.newState?.inputs?.mac).toBe("52:54:00:00:07:01");
        const server = steps.find((s) => s.urn.endsWith("::ltsp-b"))!;
        const rendered = server.newState?.inputs?.rendered as Record<string, string>;
        // ltsp.conf, the dnsmasq config and the iPXE menu, which an LtspServer always renders (docs/resources/ltsp-server.md, "How a client boots").
        expect(Object.keys(rendered).sort()).toEqual(["/etc/dnsmasq.d/ltsp-dnsmasq.conf", "/etc/ltsp/ltsp.conf", "/srv/tftp/ltsp/ltsp.ipxe"]);
        expect(rendered["/etc/ltsp/ltsp.conf"]).toContain("managed by netboot (consumer/consumer: LtspServer ltsp-b)");

        // A node needs no host, so it can be created and destroyed: the provider loads the package's
        // compiled module from the project's node_modules, and the state names no path.
        await pulumi(project, env, [
            "up",
            "--yes",
            "--skip-preview",
            "--stack",
            "consumer",
            "--target",
            steps.find((s) => s.urn.endsWith("::pc01"))!.urn,
        ]);
        const state = JSON.parse((await pulumi(project, env, ["stack", "export", "--stack", "consumer"])).stdout);
        const nodeState = state.deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::pc01"));
        expect(nodeState.outputs.__provider).toContain('("boot-iac", "dist/resources/nodeAssignment.js", "nodeAssignmentProvider")');
        expect(JSON.stringify(state)).not.toContain(scratch);
        await pulumi(project, env, ["destroy", "--yes", "--skip-preview", "--stack", "consumer"]);
    });
});
