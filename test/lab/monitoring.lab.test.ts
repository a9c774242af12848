import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labSsh, labStackConfig, labUp, listeners, ROOT, run, TestStack } from "./harness";

/**
 * The node exporter end to end: the lab server with `monitoring: { nodeExporter: true }`, the
 * stack's file_sd target list from its state (`scripts/pr-report monitoring`), and a real
 * Prometheus (Debian's `prometheus`, installed on this machine by scripts/setup.sh) that reads that
 * file and scrapes the server. Prometheus runs here, not in the lab server: the server is the
 * thing monitored (a monitoring host is another machine, reaching it over the network as this one
 * does through the lab's veth), and a fresh lab disk would otherwise download Prometheus again.
 * No client boots, no image.
 */
const PROMETHEUS = "/usr/bin/prometheus";

async function queryUntil(url: string, done: (body: any) => boolean, timeoutMs: number): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            last = await (await fetch(url)).json();
            if (done(last)) return last;
        } catch (err) {
            last = String(err); // not listening yet
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`${url}: no answer as wanted within ${timeoutMs / 1000} s; last: ${JSON.stringify(last)}`);
}

describe("node exporter on the LTSP server, scraped by Prometheus through the stack's file_sd", () => {
    let stack: TestStack;
    let env: Record<string, string>;
    let prometheus: ChildProcess | undefined;
    const work = mkdtempSync(join(tmpdir(), "netboot-monitoring-"));

    beforeAll(async () => {
        env = await labUp(true);
        stack = await TestStack.create("monitoring", labStackConfig(env, { monitoring: { nodeExporter: true } }));
    });

    afterAll(async () => {
        if (prometheus && prometheus.exitCode === null) {
            const exited = new Promise((r) => prometheus!.once("exit", r));
            prometheus.kill("SIGTERM");
            await exited;
        }
        rmSync(work, { recursive: true, force: true });
    });

    it("up installs and starts Debian's prometheus-node-exporter with our defaults file; a second up changes nothing", async () => {
        const first = await stack.up();
        expect(first.output).toMatch(/install [^\n]*prometheus-node-exporter/);
        expect((await labSsh("systemctl is-active prometheus-node-exporter; systemctl is-enabled prometheus-node-exporter")).trim()).toBe(
            "active\nenabled",
        );
        expect(await labSsh("cat /etc/default/prometheus-node-exporter")).toMatch(
            new RegExp(`^ARGS="--web.listen-address=${env.NETBOOT_LAB_HOST.replace(/\./g, "\\.")}:9100"$`, "m"),
        );
        // It listens on that address alone (issue 17: only where its client, Prometheus, is), not on the clients' LAN.
        const listening = await listeners(9100);
        console.log(`ss -ltnp 'sport = :9100' on the server:\n${listening.join("\n")}`);
        expect(listening).toHaveLength(1);
        expect(listening[0]).toMatch(new RegExp(`^${env.NETBOOT_LAB_HOST.replace(/\./g, "\\.")}:9100 users:\\(\\("prometheus-node",`));
        // From the server itself, over its LAN address: refused.
        expect(await labSsh(`(exec 3<>/dev/tcp/${env.NETBOOT_LAB_SERVER_LAN_ADDR}/9100) 2>/dev/null && echo open || echo refused`)).toBe("refused\n");
        // The exporter answers on the server's own address (what file_sd names), from this machine.
        const metrics = await fetch(`http://${env.NETBOOT_LAB_HOST}:9100/metrics`);
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toMatch(/^node_exporter_build_info\{/m);
        await stack.up();
        expect(await stack.lastChanges()).toEqual({ same: 2 });
    });

    it("Prometheus reads the exported file_sd file and `up` is 1 for the server's exporter", async () => {
        const state = join(work, "state.json");
        writeFileSync(state, await stack.exportState());
        const out = join(work, "monitoring");
        const exported = await run(join(ROOT, "scripts", "pr-report"), [
            "monitoring",
            "--state",
            state,
            "--site",
            "lab",
            "--exporters-only",
            "--out-dir",
            out,
        ]);
        expect(exported.code, exported.output).toBe(0);
        const fileSd = JSON.parse(readFileSync(join(out, "file_sd.json"), "utf8"));
        expect(fileSd).toEqual([
            { targets: [`${env.NETBOOT_LAB_HOST}:9100`], labels: { site: "lab", role: "ltsp-server", hostname: "ltsp-server" } },
        ]);

        const config = join(work, "prometheus.yml");
        writeFileSync(
            config,
            [
                "global: { scrape_interval: 2s, evaluation_interval: 2s }",
                "scrape_configs:",
                "  - job_name: netboot",
                `    file_sd_configs: [{ files: ["${join(out, "file_sd.json")}"], refresh_interval: 5s }]`,
                "",
            ].join("\n"),
        );
        const port = 19090 + Number(env.NETBOOT_LAB_ID ?? 0);
        prometheus = spawn(
            PROMETHEUS,
            [`--config.file=${config}`, `--storage.tsdb.path=${join(work, "tsdb")}`, `--web.listen-address=127.0.0.1:${port}`],
            { stdio: "ignore" },
        );
        const query = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('up{job="netboot"}')}`;
        const answer = await queryUntil(query, (body) => body?.data?.result?.length > 0 && body.data.result[0].value[1] === "1", 90_000);
        console.log(`Prometheus ${query}\n${JSON.stringify(answer, null, 2)}`);
        expect(answer.data.result).toHaveLength(1);
        expect(answer.data.result[0].metric).toEqual({
            __name__: "up",
            instance: `${env.NETBOOT_LAB_HOST}:9100`,
            job: "netboot",
            site: "lab",
            role: "ltsp-server",
            hostname: "ltsp-server",
        });
        expect(answer.data.result[0].value[1]).toBe("1");
        // A metric of the server itself came through the scrape.
        const load = await queryUntil(
            `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('node_load1{role="ltsp-server"}')}`,
            (body) => body?.data?.result?.length === 1,
            30_000,
        );
        expect(load.data.result[0].metric.instance).toBe(`${env.NETBOOT_LAB_HOST}:9100`);
    });
});
