/**
 * Benchmark of the balancing policies (figures, not assertions): the 2007 spec's site, 1400 thin
 * clients on 30 application servers (20 of 8 cores, 10 of 2), weights = cores.
 *
 *   scripts/bench-balance        (pure computation: no lab, no network; about a minute)
 *
 * 1. Assignment at `up` (sticky and what it replaces): max/mean utilisation, clients moved when a
 *    31st server (8 cores) is added (and that over its ideal share N x w_new / W_total), clients
 *    moved when one server is removed (every server in turn: all moved, mean over the 30, and
 *    the most clients of other servers that moved with it).
 * 2. Login storm: 1400 logins one after another, ratings refreshed every 50 logins, each session
 *    adding load and memory (lib/balance/storm.ts); 200 seeds per policy, max/mean at the end.
 */
import { createHash } from "node:crypto";
import { type RuntimePolicy, seededRandom } from "../lib/balance/choose";
import { assignSticky, loads, maxOverMean, movedClients, type StickyPlan } from "../lib/balance/sticky";
import { type StormServer, simulateStorm } from "../lib/balance/storm";

const SERVERS = [
    ...Array.from({ length: 20 }, (_, i) => ({ name: `app${String(i + 1).padStart(2, "0")}`, cores: 8, memoryMb: 32768 })),
    ...Array.from({ length: 10 }, (_, i) => ({ name: `small${String(i + 1).padStart(2, "0")}`, cores: 2, memoryMb: 8192 })),
];
const ADDED = { name: "app21", cores: 8, memoryMb: 32768 };
const MACS = Array.from(
    { length: 1400 },
    (_, i) => `52:54:00:10:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`,
);
const W = SERVERS.reduce((n, s) => n + s.cores, 0);
const IDEAL_ADD = (MACS.length * ADDED.cores) / (W + ADDED.cores);

type Assign = (servers: typeof SERVERS, previous?: StickyPlan) => StickyPlan;

/** The spec's "hash the MAC and take a modulus into the list of servers". */
const modulo: Assign = (servers) => {
    const names = servers.map((s) => s.name).sort();
    const assignment = Object.fromEntries(MACS.map((mac) => [mac, names[createHash("sha256").update(mac).digest().readUInt32BE(0) % names.length]]));
    return { servers: names, assignment };
};

const variants: Array<[string, Assign]> = [
    ["sticky, bound 1.10 (from the previous plan)", (servers, previous) => assignSticky(MACS, servers, 1.1, previous)],
    ["sticky, bound 1.05 (from the previous plan)", (servers, previous) => assignSticky(MACS, servers, 1.05, previous)],
    ["sticky, bound 1.10, recomputed from scratch", (servers) => assignSticky(MACS, servers, 1.1)],
    ["weighted HRW without bound", (servers) => assignSticky(MACS, servers, 1000)],
    ["spec: sha256(MAC) mod servers", modulo],
];

function assignmentTable(): void {
    console.log(`\n1. Assignment at up: ${MACS.length} clients, ${SERVERS.length} servers (20 x 8 cores, 10 x 2), weight = cores`);
    console.log(`   add: a 31st server of 8 cores, ideal share ${IDEAL_ADD.toFixed(1)} clients; remove: each of the 30 servers in turn\n`);
    const header = ["policy", "max/mean", "add: moved", "x ideal", "remove: moved (mean)", "others moved (max)", "ms per plan"];
    const widths = [46, 9, 11, 8, 19, 19, 11];
    console.log(header.map((h, i) => h.padEnd(widths[i])).join(" "));
    assignSticky(MACS, SERVERS, 1.1); // warm up (JIT), so the first row's time is comparable
    for (const [name, assign] of variants) {
        const started = process.hrtime.bigint();
        const plan = assign(SERVERS);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const plus = [...SERVERS, ADDED];
        const added = movedClients(plan, assign(plus, plan)).length;
        let movedTotal = 0;
        let othersMax = 0;
        for (const gone of SERVERS) {
            const after = assign(
                SERVERS.filter((s) => s !== gone),
                plan,
            );
            const moved = movedClients(plan, after);
            const mine = moved.filter((m) => m.from === gone.name).length;
            movedTotal += moved.length;
            othersMax = Math.max(othersMax, moved.length - mine);
        }
        const cells = [
            name,
            maxOverMean(loads(plan), SERVERS).toFixed(3),
            String(added),
            (added / IDEAL_ADD).toFixed(2),
            (movedTotal / SERVERS.length).toFixed(1),
            String(othersMax),
            ms.toFixed(0),
        ];
        console.log(cells.map((c, i) => c.padEnd(widths[i])).join(" "));
    }
}

function stormTable(seeds: number): void {
    const servers: StormServer[] = SERVERS;
    console.log(`\n2. Login storm: ${MACS.length} logins, ratings refreshed every 50 logins, ${seeds} seeds; max/mean utilisation at the end\n`);
    const header = ["policy", "median", "p90", "worst", "runs <= 1.10"];
    const widths = [46, 8, 8, 8, 12];
    console.log(header.map((h, i) => h.padEnd(widths[i])).join(" "));
    const rows: Array<[string, RuntimePolicy]> = [
        ["spec: random (uniform)", "random"],
        ["spec: best rated (plain, first on a tie)", "plain-best-rated"],
        ["weighted (water filling on rating after login)", "weighted"],
        ["best-rated (best of two by size, after login)", "best-rated"],
    ];
    for (const [name, policy] of rows) {
        const ratios: number[] = [];
        for (let seed = 1; seed <= seeds; seed++) {
            ratios.push(maxOverMean(simulateStorm(servers, policy, { logins: MACS.length, refreshEvery: 50, random: seededRandom(seed) }), SERVERS));
        }
        ratios.sort((a, b) => a - b);
        const at = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
        const within = ratios.filter((r) => r <= 1.1).length / ratios.length;
        console.log(
            [name, at(0.5).toFixed(3), at(0.9).toFixed(3), ratios[ratios.length - 1].toFixed(3), `${(within * 100).toFixed(0)}%`]
                .map((c, i) => c.padEnd(widths[i]))
                .join(" "),
        );
    }
}

assignmentTable();
stormTable(Number(process.env.BENCH_SEEDS ?? 200));
