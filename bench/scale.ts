/**
 * Scale benchmark (figures, not assertions): a generated site of 1400 clients on 30 LTSP servers
 * (scripts/gen-inventory), next to the engine's floor: the same CLI, the same number of dynamic
 * resources with the same inputs, doing nothing (stacks/scale.ts, mode "floor").
 *
 *   scripts/bench scale [--nodes 1400] [--servers 30] [--rounds 2]
 *
 * The servers are fake hosts over real SSH (bench/fakeSshHosts.ts): 30 LtspServers on one lab
 * host would write the same files, and 30 lab hosts are not to be had. Measured, each real and floor
 * side by side in one run (ABBA order per round, so load drifts hit both): preview and unchanged
 * up (wall, median of the rounds), state bytes per node (pulumi stack export), and one node's
 * image changed: resource changes, regenerations (ltsp ipxe / initrd) and mutating SSH commands
 * (each fake host's /var/log/netboot/mutations.log).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ScaleFile } from "../stacks/scale";
import { ROOT, TestStack } from "../test/lab/harness";
import { type FakeSshHost, startFakeSshHost } from "./fakeSshHosts";
import { medianOf, timed } from "./timing";

const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { nodes: { type: "string", default: "1400" }, servers: { type: "string", default: "30" }, rounds: { type: "string", default: "2" } },
});
const NODES = Number(values.nodes);
const SERVERS = Number(values.servers);
const ROUNDS = Number(values.rounds);
const KEY_FILE = join(ROOT, "test", "fixtures", "unit-test-key");
const IMAGES = ["thin", "fat"];

/** The inventory as scripts/gen-inventory writes it (CSV), read back into node inputs. */
function generatedNodes(): ScaleFile["nodes"] {
    const csv = execFileSync(
        join(ROOT, "scripts", "gen-inventory"),
        ["--count", String(NODES), "--images", IMAGES.join(","), "--role", "thin-client", "--ltsp-every", "10"],
        {
            encoding: "utf8",
        },
    );
    const [header, ...rows] = csv.trim().split("\n");
    const columns = header.split(",");
    return rows.map((row, i) => {
        const cells = Object.fromEntries(row.split(",").map((v, c) => [columns[c], v]));
        return {
            mac: cells.mac,
            hostname: cells.hostname,
            image: cells.image,
            role: cells.role,
            ...(cells["ltsp.MOSIX"] ? { ltspConf: { MOSIX: cells["ltsp.MOSIX"] } } : {}),
            server: i % SERVERS,
        };
    });
}

function mutationLines(hosts: FakeSshHost[]): string[][] {
    return hosts.map((h) => (h.host.text("var/log/netboot/mutations.log") ?? "").split("\n").filter(Boolean));
}

function workSince(before: string[][], hosts: FakeSshHost[]) {
    const after = mutationLines(hosts);
    const added = after.map((lines, i) => lines.slice(before[i].length));
    return {
        mutating: added.flat().length,
        regenerations: added.flat().filter((l) => / ltsp (ipxe|initrd)$/.test(l)).length,
        serversRegenerated: added.filter((lines) => lines.some((l) => / ltsp ipxe$/.test(l))).length,
    };
}

/** State sizes, compact JSON (`pulumi stack export` indents; the indentation is no state). */
function stateFigures(exported: string) {
    const state = JSON.parse(exported);
    const resources: Array<{ type: string; urn: string; inputs?: { __provider?: string }; outputs?: { __provider?: string } }> =
        state.deployment.resources;
    const bytes = (r: unknown) => JSON.stringify(r).length;
    // The nodes: NodeAssignments, or the floor's do-nothing resources not named like a server.
    const nodes = resources.filter((r) => /NodeAssignment$/.test(r.type) || (/Nothing$/.test(r.type) && !/::ltsp\d+$/.test(r.urn)));
    const servers = resources.filter((r) => /LtspServer$/.test(r.type) || (/Nothing$/.test(r.type) && /::ltsp\d+$/.test(r.urn)));
    const total = bytes(state);
    return {
        total,
        perNode: total / NODES,
        nodeResourceBytes: nodes.reduce((n, r) => n + bytes(r), 0) / Math.max(1, nodes.length),
        serverResourceBytes: servers.reduce((n, r) => n + bytes(r), 0) / Math.max(1, servers.length),
        /** The serialized provider, kept twice per resource (inputs and outputs). */
        providerBytes: JSON.stringify(nodes[0]?.inputs?.__provider ?? "").length,
    };
}

async function main(): Promise<void> {
    // The file backend writes the whole state (MBs here) after every step of an up: quadratic in the
    // resources, and past the harness's 15-minute limit for a first up of 1430 on this loaded machine.
    // Pulumi's PULUMI_SKIP_CHECKPOINTS keeps only the final state; it applies to both stacks alike.
    process.env.PULUMI_SKIP_CHECKPOINTS = "true";
    const work = mkdtempSync(join(tmpdir(), "netboot-scale-"));
    const key = readFileSync(KEY_FILE, "utf8");
    const hosts: FakeSshHost[] = [];
    const stacks: TestStack[] = [];
    // Interrupted: the fake hosts' directories go (the stacks' state stays in .test-work for a look).
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            for (const h of hosts) h.close();
            process.exit(130);
        });
    }
    try {
        for (let i = 0; i < SERVERS; i++) hosts.push(await startFakeSshHost(`127.0.${Math.floor(i / 200) + 100}.${(i % 200) + 10}`, 2222, key));
        const nodes = generatedNodes();
        const servers = hosts.map((h, i) => ({
            name: `ltsp${String(i + 1).padStart(2, "0")}`,
            host: h.address,
            port: h.port,
            hostKeyFingerprint: h.hostKeyFingerprint,
            lan: { interface: "eth1", address: `10.${100 + Math.floor(i / 250)}.${i % 250}.1/24` },
        }));
        const files: Record<"real" | "floor", string> = { real: join(work, "real.json"), floor: join(work, "floor.json") };
        for (const mode of ["real", "floor"] as const) {
            const file: ScaleFile = { mode, privateKeyFile: KEY_FILE, images: IMAGES, servers, nodes };
            writeFileSync(files[mode], JSON.stringify(file));
        }
        const real = await TestStack.create("scale-real", { site: "scale", scaleFile: files.real });
        const floor = await TestStack.create("scale-floor", { site: "scale", scaleFile: files.floor });
        stacks.push(real, floor);
        const both = { real, floor };
        /** Per figure and stack, each run's [wall seconds, CPU seconds]. */
        const fig: Record<string, Record<"real" | "floor", Array<[number, number]>>> = {};
        const record = (what: string, mode: "real" | "floor", [, seconds, cpuSeconds]: [unknown, number, number]) => {
            fig[what] ??= { real: [], floor: [] };
            fig[what][mode].push([seconds, cpuSeconds]);
            console.error(`scale: ${what} ${mode} ${seconds.toFixed(1)} s (CPU ${cpuSeconds.toFixed(1)} s)`);
        };

        let log = mutationLines(hosts);
        for (const mode of ["real", "floor"] as const) record("first up (create all)", mode, await timed(() => both[mode].up()));
        const created = workSince(log, hosts);

        for (let round = 0; round < ROUNDS; round++) {
            const order = round % 2 === 0 ? (["real", "floor", "floor", "real"] as const) : (["floor", "real", "real", "floor"] as const);
            for (const [i, mode] of order.entries()) {
                // ABBA inside a round: previews for the first two, unchanged ups for the last two.
                if (i < 2) record("preview, nothing changed", mode, await timed(() => both[mode].preview()));
                else record("up, nothing changed", mode, await timed(() => both[mode].up()));
            }
        }
        log = mutationLines(hosts);
        await real.up();
        const unchangedWork = workSince(log, hosts);
        const unchangedChanges = await real.lastChanges();

        const state = { real: stateFigures(await real.exportState()), floor: stateFigures(await floor.exportState()) };

        // One node's image changes (pc0007: thin -> fat, as an administrator moves one client).
        const moved = nodes.findIndex((n) => n.image === "thin" && n.hostname.endsWith("7"));
        for (const mode of ["real", "floor"] as const) {
            const file = JSON.parse(readFileSync(files[mode], "utf8")) as ScaleFile;
            file.nodes[moved].image = "fat";
            writeFileSync(files[mode], JSON.stringify(file));
        }
        log = mutationLines(hosts);
        record("up, one node changed", "real", await timed(() => real.up()));
        const oneNode = workSince(log, hosts);
        const oneNodeChanges = await real.lastChanges();
        record("up, one node changed", "floor", await timed(() => floor.up()));
        const floorOneNodeChanges = await floor.lastChanges();

        const row = (cells: Array<string | number>) => console.log(`| ${cells.join(" | ")} |`);
        console.log(
            `\nScale: ${NODES} nodes on ${SERVERS} LTSP servers (fake hosts over SSH), ${NODES + SERVERS} resources; floor = as many do-nothing dynamic resources, same inputs. ${ROUNDS} rounds, median.\n`,
        );
        row(["figure", "netboot", "floor", "ratio", "target"]);
        row(["---", "---:", "---:", "---:", "---"]);
        for (const [what, target] of [
            ["preview, nothing changed", "≤ 1.25"],
            ["up, nothing changed", "≤ 1.25"],
            ["first up (create all)", ""],
            ["up, one node changed", ""],
        ] as const) {
            const r = medianOf(fig[what].real, 0);
            const f = medianOf(fig[what].floor, 0);
            row([`${what} (s)`, r.toFixed(1), f.toFixed(1), (r / f).toFixed(2), target]);
        }
        for (const what of ["preview, nothing changed", "up, nothing changed"]) {
            const r = medianOf(fig[what].real, 1);
            const f = medianOf(fig[what].floor, 1);
            row([`${what}: CPU s, all processes`, r.toFixed(1), f.toFixed(1), (r / f).toFixed(2), ""]);
        }
        row([
            "state bytes per node (whole state / nodes)",
            Math.round(state.real.perNode),
            Math.round(state.floor.perNode),
            (state.real.perNode / state.floor.perNode).toFixed(2),
            "≤ 1.5",
        ]);
        row([
            "state bytes per node resource",
            Math.round(state.real.nodeResourceBytes),
            Math.round(state.floor.nodeResourceBytes),
            (state.real.nodeResourceBytes / state.floor.nodeResourceBytes).toFixed(2),
            "",
        ]);
        row([
            "  of which its serialized provider (kept twice)",
            state.real.providerBytes,
            state.floor.providerBytes,
            (state.real.providerBytes / state.floor.providerBytes).toFixed(2),
            "",
        ]);
        row([
            "state bytes per server resource",
            Math.round(state.real.serverResourceBytes),
            Math.round(state.floor.serverResourceBytes),
            (state.real.serverResourceBytes / state.floor.serverResourceBytes).toFixed(2),
            "",
        ]);
        console.log();
        row(["one node's image changed", "netboot", "floor", "", "target"]);
        row(["---", "---", "---", "", "---"]);
        row(["resource changes", JSON.stringify(oneNodeChanges), JSON.stringify(floorOneNodeChanges), "", "the node + its server"]);
        row([
            "regenerations (servers running ltsp ipxe / applet runs)",
            `${oneNode.serversRegenerated} / ${oneNode.regenerations}`,
            "0",
            "",
            "1 server",
        ]);
        row(["mutating SSH commands", oneNode.mutating, "0", "", ""]);
        console.log();
        row(["for scale", "netboot", "", "", ""]);
        row(["---", "---", "", "", ""]);
        row(["create all: mutating SSH commands / servers regenerated", `${created.mutating} / ${created.serversRegenerated}`, "", "", ""]);
        row([
            "unchanged up: resource changes / mutating SSH commands",
            `${JSON.stringify(unchangedChanges)} / ${unchangedWork.mutating}`,
            "",
            "",
            "",
        ]);
        row(["state: whole (bytes, compact JSON)", state.real.total, state.floor.total, (state.real.total / state.floor.total).toFixed(2), ""]);
    } finally {
        for (const stack of stacks) await stack.destroy().catch((err: Error) => console.error(`destroy: ${err.message.slice(0, 300)}`));
        for (const h of hosts) h.close();
        rmSync(work, { recursive: true, force: true });
    }
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
