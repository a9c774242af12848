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
        env = pulumiEnv(join(scratch, "state"), { NO_COLOR: "1" });
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
            expect((node.newState!.inputs as { ltspConf: Record<string, string> }).ltspConf.BALANCE_PREFER.split(" ")).toHaveLength(1);
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

    it(
        "the 17-client lab: adding a server, the preview updates exactly the clients the balance lists as moving",
        async () => {
            // Pulumi.school.yaml with this repository's test key; only the balance and the clients are applied (they touch no host).
            const pin = "SHA256:GIfTuZcvFy5IaYjUhzqUszY6WBfsPi63iz8CjqP8pOg"; // ssh-keygen -lf test/fixtures/unit-test-key.pub
            const lab = readFileSync(join(dir, "Pulumi.school.yaml"), "utf8")
                .replaceAll("/var/lib/netboot-lab/ssh/id_ed25519", KEY)
                .replaceAll("knownHostsFile: /var/lib/netboot-lab/known_hosts", `hostKeyFingerprint: ${pin}`);
            const labEnv = { ...env, PULUMI_CONFIG_PASSPHRASE: "netboot-lab-dev" };
            await pulumi(dir, labEnv, ["stack", "init", "school"]);
            writeFileSync(join(dir, "Pulumi.school.yaml"), lab);
            const urn = "urn:pulumi:school::netboot::pulumi-nodejs:dynamic/netboot:";
            const nodes = Array.from({ length: 17 }, (_, i) => `tc${String(i + 1).padStart(2, "0")}`);
            const targets = [`${urn}SessionBalance::balance`, ...nodes.map((n) => `${urn}NodeAssignment::${n}`)].flatMap((t) => ["--target", t]);
            await pulumi(dir, labEnv, ["up", "--yes", "--skip-preview", "--stack", "school", ...targets]);
            const app3 = `    - name: app3\n      address: 10.213.1.13\n      cores: 2\n      server:\n        host: 10.213.0.14\n        user: root\n        privateKeyFile: ${KEY}\n        hostKeyFingerprint: ${pin}\n`;
            writeFileSync(join(dir, "Pulumi.school.yaml"), lab.replace("  netboot:balance:", `${app3}  netboot:balance:`));
            const preview = await pulumi(dir, labEnv, ["preview", "--diff", "--stack", "school"]);
            const updated = [
                ...preview.output.matchAll(
                    /~\s+pulumi-nodejs:dynamic\/netboot:NodeAssignment: \(update\)\s+(?:\[id=[^\]]*\]\s+)?\[urn=[^\]]*?NodeAssignment::(tc\d+)\]/g,
                ),
            ].map((m) => m[1]);
            const listed = /balance: (\d+) client\(s\) move: ([^\n]*)/.exec(preview.output);
            const listedHosts = (listed?.[2] ?? "")
                .split(", ")
                .map((m) => `tc${String(Number.parseInt(m.split(" ")[0].split(":")[5], 16)).padStart(2, "0")}`);
            console.log(`preview: updated ${updated.join(" ")}; ${listed?.[0]}`);
            expect(updated.length).toBeGreaterThan(0);
            expect(updated.sort()).toEqual(listedHosts.sort());
            // Each updated client's section changes its BALANCE_PREFER, nothing else: in its NodeAssignment and in the LtspServer's nodes.
            expect(preview.output.match(/~ BALANCE_PREFER: "[0-9.]+" => "[0-9.]+"/g)).toHaveLength(2 * updated.length);
        },
        10 * 60_000,
    );
});
