import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cloneCheckout, pulumi, pulumiEnv, ROOT, scratchDir } from "./helpers";

/**
 * The generated 1400-client school site (scripts/gen-school-site: Pulumi.school-1400.yaml and
 * inventory/school-1400.csv) previews with the real CLI: a preview contacts no host, so none of
 * its 31 machines need exist. Only the SSH key file is this repository's unit-test key.
 */
const scratch = scratchDir("school");
const KEY = join(ROOT, "test", "fixtures", "unit-test-key");

describe("the 1400-client school site", () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
        dir = cloneCheckout(join(scratch, "project"));
        env = pulumiEnv(join(scratch, "state"), { PULUMI_NODEJS_TRANSPILE_ONLY: "true", NO_COLOR: "1" });
        const config = readFileSync(join(dir, "Pulumi.school-1400.yaml"), "utf8").replaceAll("/etc/netboot/school-key", KEY);
        await pulumi(dir, env, ["stack", "init", "school-1400"]);
        // `stack init` wrote its salt into Pulumi.school-1400.yaml: keep it, with the example's config.
        const salt = /encryptionsalt: \S+/.exec(readFileSync(join(dir, "Pulumi.school-1400.yaml"), "utf8"))?.[0];
        writeFileSync(join(dir, "Pulumi.school-1400.yaml"), `${config}${salt ? `${salt}\n` : ""}`);
    }, 5 * 60_000);

    it(
        "previews: 1400 clients from the inventory, 30 app servers, every client's server within the bound",
        async () => {
            const preview = await pulumi(dir, env, ["preview", "--stack", "school-1400", "--json"]);
            const result = JSON.parse(preview.stdout) as {
                steps: Array<{ op: string; urn: string; newState?: { outputs?: Record<string, unknown>; inputs?: Record<string, unknown> } }>;
                changeSummary: Record<string, number>;
            };
            const types = (t: string) => result.steps.filter((s) => s.urn.includes(`netboot:${t}::`));
            expect(types("NodeAssignment")).toHaveLength(1400);
            expect(types("AppServer")).toHaveLength(30);
            expect(result.changeSummary.create).toBe(1400 + 30 + 4); // + image, LTSP server, balance, the stack
            const balance = types("SessionBalance")[0].newState!.inputs as { plan: { assignment: Record<string, string> } };
            const counts = new Map<string, number>();
            for (const server of Object.values(balance.plan.assignment)) counts.set(server, (counts.get(server) ?? 0) + 1);
            // Weight = cores: 20 x 8 + 10 x 2 = 180; a server's share is cores / 180 of 1400 clients, its bound 1.1 x that.
            for (const [server, n] of counts) {
                const cores = server.startsWith("app") ? 8 : 2;
                expect(n).toBeLessThanOrEqual(Math.floor((1.1 * cores * 1400) / 180));
            }
            expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(1400);
            // The [MAC] sections name each client's server first.
            const node = types("NodeAssignment").find((s) => s.urn.endsWith("::tc0001"))!;
            expect((node.newState!.inputs as { ltspConf: Record<string, string> }).ltspConf.BALANCE_PREFER.split(" ")).toHaveLength(3);
        },
        10 * 60_000,
    );

    it(
        "a weight of 0 fails the preview, naming the config key",
        async () => {
            await pulumi(dir, env, ["config", "set", "--path", "netboot:appServers[3].weight", "0", "--stack", "school-1400"]);
            const preview = await pulumi(dir, env, ["preview", "--stack", "school-1400"], 1);
            expect(preview.output).toContain("netboot:appServers[3].weight: 0 must be more than 0");
        },
        5 * 60_000,
    );
});
