import { copyFileSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cloneCheckout, pulumi, pulumiEnv, ROOT, scratchDir, writeFiles } from "./helpers";

/**
 * State portability with the real CLI and no host: a program of NodeAssignments and a Probe
 * (test/fixtures/portable/probe.ts, a dynamic resource through the same loader, whose read and
 * delete record which checkout's code ran them). Each checkout is a copy of this working tree at its own temporary path.
 */
const PROGRAM = {
    "Pulumi.yaml": [
        "name: portable",
        "runtime:",
        "  name: nodejs",
        "  options:",
        "    typescript: true",
        "main: test/fixtures/portable/program.ts",
        "",
    ].join("\n"),
};
const PROBE = "test/fixtures/portable/probe.ts";
const LEGACY_LOADER = join(ROOT, "test", "fixtures", "portable", "legacy-lazy.ts");
const LOADER = "lib/provider/lazy.ts";

const scratch = scratchDir("portable");
// The programs are type-checked by tsc with the rest of the repository; here that would only cost time.
const FAST = { PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function checkout(name: string): string {
    const dir = cloneCheckout(join(scratch, name));
    writeFiles(dir, PROGRAM);
    return dir;
}

interface StateResource {
    urn: string;
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

async function resources(dir: string, env: NodeJS.ProcessEnv, stack: string): Promise<StateResource[]> {
    const exported = await pulumi(dir, env, ["stack", "export", "--stack", stack]);
    return JSON.parse(exported.stdout).deployment.resources ?? [];
}

const providers = (all: StateResource[]) => all.flatMap((r) => [r.inputs?.__provider, r.outputs?.__provider]).filter((p) => p !== undefined);
const probe = (all: StateResource[]) => all.find((r) => r.type.endsWith(":Probe"))!;
const journal = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

describe("state written in one checkout works from a clone at another path", () => {
    it("up in A; with A deleted, preview, refresh and destroy from B", async () => {
        const [a, b] = [checkout("a"), checkout("b")];
        const deletes = join(scratch, "deletes-ab");
        const env = pulumiEnv(join(scratch, "state-ab"), { ...FAST, PROBE_JOURNAL: deletes });
        await pulumi(a, env, ["stack", "init", "portable"]);
        await pulumi(a, env, ["up", "--yes", "--skip-preview", "--stack", "portable"]);

        const written = await resources(a, env, "portable");
        expect(written.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"))).toHaveLength(4);
        // 4 dynamic resources, each provider kept in inputs and outputs; none names the checkout.
        expect(providers(written)).toHaveLength(8);
        for (const provider of providers(written)) {
            expect(provider).toMatch(/\}\)\("boot-iac", "(resources\/nodeAssignment|test\/fixtures\/portable\/probe)\.ts", "\w+"\);\n$/);
            expect(provider).not.toContain(a);
        }
        expect(probe(written).outputs?.createdBy).toBe(join(a, PROBE));

        rmSync(a, { recursive: true, force: true });
        await pulumi(b, env, ["preview", "--expect-no-changes", "--stack", "portable"]);
        await pulumi(b, env, ["refresh", "--yes", "--skip-preview", "--stack", "portable"]);
        // The refresh ran read, and it ran B's code.
        expect(probe(await resources(b, env, "portable")).outputs?.readBy).toBe(join(b, PROBE));
        await pulumi(b, env, ["preview", "--expect-no-changes", "--stack", "portable"]);
        await pulumi(b, env, ["destroy", "--yes", "--skip-preview", "--stack", "portable"]);
        expect(journal(deletes)).toBe(`delete one ${join(b, PROBE)}\n`);
        expect(await resources(b, env, "portable")).toEqual([]);
    });

    it("a state written by the earlier loader still previews, refreshes and destroys in its checkout", async () => {
        const c = checkout("c");
        const deletes = join(scratch, "deletes-c");
        const env = pulumiEnv(join(scratch, "state-c"), { ...FAST, PROBE_JOURNAL: deletes });
        copyFileSync(LEGACY_LOADER, join(c, LOADER));
        await pulumi(c, env, ["stack", "init", "legacy"]);
        await pulumi(c, env, ["up", "--yes", "--skip-preview", "--stack", "legacy"]);
        const written = await resources(c, env, "legacy");
        // The earlier loader's state: the checkout's absolute path in every provider.
        expect(providers(written).every((p) => String(p).includes(`modulePath: "${c}/`))).toBe(true);

        copyFileSync(join(ROOT, LOADER), join(c, LOADER));
        await pulumi(c, env, ["preview", "--expect-no-changes", "--stack", "legacy"]);
        await pulumi(c, env, ["refresh", "--yes", "--skip-preview", "--stack", "legacy"]);
        expect(probe(await resources(c, env, "legacy")).outputs?.readBy).toBe(join(c, PROBE));
        await pulumi(c, env, ["destroy", "--yes", "--skip-preview", "--stack", "legacy"]);
        expect(journal(deletes)).toBe(`delete one ${join(c, PROBE)}\n`);
    });

    it("scripts/portable-state makes such a state portable after one up; without it a clone cannot refresh", async () => {
        const [e, f] = [checkout("e"), checkout("f")];
        const deletes = join(scratch, "deletes-ef");
        const env = pulumiEnv(join(scratch, "state-ef"), { ...FAST, PROBE_JOURNAL: deletes });
        copyFileSync(LEGACY_LOADER, join(e, LOADER));
        await pulumi(e, env, ["stack", "init", "migrate"]);
        await pulumi(e, env, ["up", "--yes", "--skip-preview", "--stack", "migrate"]);
        copyFileSync(join(ROOT, LOADER), join(e, LOADER));
        // An up with the current code changes nothing, and replaces only the providers in the inputs.
        const up = await pulumi(e, env, ["up", "--yes", "--skip-preview", "--stack", "migrate"]);
        expect(up.stdout).toMatch(/5 unchanged/);
        const afterUp = await resources(e, env, "migrate");
        expect(afterUp.filter((r) => String(r.outputs?.__provider ?? "").includes(`modulePath: "${e}/`))).toHaveLength(4);

        // The control: with E out of the way, a clone's refresh fails on E's path (what this test would
        // see of a lingering absolute path; the earlier loader first needs E's tsconfig.json).
        renameSync(e, `${e}.away`);
        const failed = await pulumi(f, env, ["refresh", "--yes", "--skip-preview", "--stack", "migrate"], 1);
        expect(failed.output).toContain(`Cannot read file '${e}/tsconfig.json'`);
        renameSync(`${e}.away`, e);

        const migrated = await run(e, env, ["scripts/portable-state", "--stack", "migrate"]);
        expect(migrated).toContain("portable-state: 4 resource(s) made portable");
        for (const provider of providers(await resources(e, env, "migrate"))) expect(provider).not.toContain(e);

        rmSync(e, { recursive: true, force: true });
        await pulumi(f, env, ["preview", "--expect-no-changes", "--stack", "migrate"]);
        await pulumi(f, env, ["refresh", "--yes", "--skip-preview", "--stack", "migrate"]);
        expect(probe(await resources(f, env, "migrate")).outputs?.readBy).toBe(join(f, PROBE));
        await pulumi(f, env, ["destroy", "--yes", "--skip-preview", "--stack", "migrate"]);
        expect(journal(deletes)).toBe(`delete one ${join(f, PROBE)}\n`);
    });
});

/** Runs a script of the checkout with the test's Pulumi environment; returns its output. */
async function run(cwd: string, env: NodeJS.ProcessEnv, command: string[]): Promise<string> {
    const { run: spawnRun } = await import("../lab/harness");
    const result = await spawnRun(join(cwd, command[0]), command.slice(1), { cwd, env });
    if (result.code !== 0) throw new Error(`${command.join(" ")} exited ${result.code}:\n${result.output.slice(-4000)}`);
    return result.output;
}
