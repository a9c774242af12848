import { describe, expect, it } from "vitest";
import { balanceLtspConf } from "../../lib/balance/ltspConf";
import { type BalanceInput, capacities, validateBalance } from "../../lib/balance/spec";
import { assignSticky, hash01, loads, maxOverMean, movedClients, ranking } from "../../lib/balance/sticky";
import { ldminfodUnits } from "../../lib/balance/units";
import { ltspConfSectionSchema, sectionLines } from "../../lib/ltsp/ltspConf";

/** The 2007 spec's site: 30 application servers, 20 of 8 cores and 10 of 2; 1400 thin clients. */
const SERVERS = [
    ...Array.from({ length: 20 }, (_, i) => ({ name: `app${String(i + 1).padStart(2, "0")}`, address: `10.0.1.${i + 1}`, cores: 8 })),
    ...Array.from({ length: 10 }, (_, i) => ({ name: `small${String(i + 1).padStart(2, "0")}`, address: `10.0.2.${i + 1}`, cores: 2 })),
];
const MACS = Array.from(
    { length: 1400 },
    (_, i) => `52:54:00:10:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`,
);
const TOTAL_WEIGHT = 20 * 8 + 10 * 2;

function reasons(inputs: Record<string, unknown>, clients: readonly string[] = MACS): string[] {
    const result = validateBalance(inputs, clients);
    return result.ok ? [] : result.failures.map((f) => f.reason);
}

const site = (overrides: Partial<BalanceInput> = {}): BalanceInput => ({ policy: "sticky", servers: SERVERS, ...overrides });

describe("balancing config", () => {
    it("accepts the school site and fills the defaults", () => {
        const result = validateBalance(site(), MACS);
        expect(result.ok).toBe(true);
        if (result.ok)
            expect([result.spec.bound, result.spec.port, result.spec.sessionsPerCore, result.spec.timeoutSeconds]).toEqual([1.1, 9571, 10, 2]);
    });

    it.each([
        [{ policy: "round-robin" }, 'policy: "round-robin" is not one of "fixed", "random", "best-rated", "weighted", "sticky"'],
        [{ servers: [{ ...SERVERS[0], weight: 0 }] }, "servers.0.weight: 0 must be more than 0"],
        [{ servers: [{ ...SERVERS[0], weight: -2 }] }, "servers.0.weight: -2 must be more than 0"],
        [
            { policy: "fixed", fixed: { "52:54:00:10:00:01": "app99" } },
            'fixed.52:54:00:10:00:01: "app99" is not a server of this site (known servers: app01,',
        ],
        [
            { policy: "fixed", groups: { room12: { server: "gone", clients: ["52:54:00:10:00:01"] } } },
            'groups.room12.server: "gone" is not a server of this site',
        ],
        [{ policy: "fixed", fixed: { "not-a-mac": "app01" } }, 'fixed.not-a-mac: "not-a-mac" is not a client MAC address'],
        [{ servers: [SERVERS[0], { ...SERVERS[1], name: "app01" }] }, 'servers.1.name: "app01" is also the name of servers[0]'],
        [{ bound: 0.9 }, "bound: 0.9 must be 1.0 or more"],
        [{ servers: [{ ...SERVERS[0], cores: 0 }] }, "servers.0.cores: 0 must be 1 or more"],
    ])("rejects %j naming the field", (overrides, expected) => {
        const all = reasons(site(overrides as Partial<BalanceInput>));
        expect(
            all.some((r) => r.startsWith(expected)),
            all.join("\n"),
        ).toBe(true);
    });

    it("rejects servers that cannot hold the clients at the bound", () => {
        // 4 clients on 3 equal servers at bound 1.2: each may take floor(1.2 x 4/3) = floor(1.6) = 1, so 3 places for 4 clients.
        const servers = SERVERS.slice(0, 3);
        expect(reasons(site({ servers, bound: 1.2 }), MACS.slice(0, 4))).toEqual([
            "bound: 1.2 lets the 3 servers hold only 3 of the 4 clients (each takes at most floor(bound x its weight share x clients)); raise bound or add servers",
        ]);
        // At bound 1.5 each takes floor(2) = 2: 6 places.
        expect(reasons(site({ servers, bound: 1.5 }), MACS.slice(0, 4))).toEqual([]);
        // Hard limits count for every policy.
        expect(reasons(site({ policy: "weighted", servers: servers.map((s) => ({ ...s, maxSessions: 400 })) }))).toEqual([
            "servers: their maxSessions add up to 1200, fewer than the 1400 clients; raise maxSessions or add servers",
        ]);
    });

    it("caps each server at floor(bound x weight share x clients)", () => {
        // 8-core: 1.1 x 8/180 x 1400 = 68.44 -> 68; 2-core: 1.1 x 2/180 x 1400 = 17.11 -> 17.
        const caps = capacities(SERVERS, 1400, 1.1);
        expect([caps.get("app01"), caps.get("small01")]).toEqual([68, 17]);
    });
});

describe("sticky: weighted rendezvous hashing with bounded load", () => {
    const plan = assignSticky(MACS, SERVERS, 1.1);

    it("hashes to (0, 1) from sha256 of mac|server", () => {
        // printf '52:54:00:10:00:00|app01' | sha256sum  ->  a9fc3d55880e9eec...; its first 52 bits
        // (13 hex digits, 0xa9fc3d55880e9) plus 0.5, over 2^52 (python3: (int('a9fc3d55880e9', 16) + 0.5) / 2**52).
        expect(hash01("52:54:00:10:00:00", "app01")).toBe(0.6640051206414291);
        expect(hash01("52:54:00:10:00:00", "app02")).not.toBe(0.6640051206414291);
    });

    it("is deterministic and independent of the order of clients and servers", () => {
        const shuffled = assignSticky([...MACS].reverse(), [...SERVERS].reverse(), 1.1);
        expect(shuffled).toEqual(plan);
        expect(assignSticky(MACS, SERVERS, 1.1)).toEqual(plan);
        expect(Object.keys(plan.assignment)).toHaveLength(1400);
    });

    it("keeps max/mean utilisation within the bound (clients / weight)", () => {
        expect(maxOverMean(loads(plan), SERVERS)).toBeLessThanOrEqual(1.1);
        const tight = assignSticky(MACS, SERVERS, 1.05);
        expect(maxOverMean(loads(tight), SERVERS)).toBeLessThanOrEqual(1.05);
    });

    it("gives servers clients in proportion to their weight without a binding bound", () => {
        // With bound 2 nobody reaches a cap (an 8-core server would need 124 clients), so this is
        // plain HRW: an 8-core server wins a client with probability 8/180, i.e. about 62.2 clients.
        const loose = loads(assignSticky(MACS, SERVERS, 2));
        const big = SERVERS.filter((s) => s.cores === 8).reduce((n, s) => n + loose.get(s.name)!, 0);
        const small = SERVERS.filter((s) => s.cores === 2).reduce((n, s) => n + loose.get(s.name)!, 0);
        // Expected 1244.4 and 155.6; the tolerance is about 3 standard deviations of a binomial (sqrt(1400 x 0.11 x 0.89) = 11.7).
        expect(Math.abs(big - 1244.4)).toBeLessThan(36);
        expect(big + small).toBe(1400);
    });

    it("does not move anyone when nothing changed (a second up)", () => {
        expect(assignSticky(MACS, SERVERS, 1.1, plan)).toEqual(plan);
    });

    it.each(["app05", "small03"])("removing %s moves only its own clients", (gone) => {
        const remaining = SERVERS.filter((s) => s.name !== gone);
        const after = assignSticky(MACS, remaining, 1.1, plan);
        const own = Object.keys(plan.assignment).filter((mac) => plan.assignment[mac] === gone);
        const moved = movedClients(plan, after);
        expect(moved.map((m) => m.mac).sort()).toEqual(own.sort());
        expect(maxOverMean(loads(after), remaining)).toBeLessThanOrEqual(1.1);
    });

    it("adding a 31st server moves at most 1.5x its ideal share", () => {
        const plus = [...SERVERS, { name: "app21", address: "10.0.1.21", cores: 8 }];
        const after = assignSticky(MACS, plus, 1.1, plan);
        // Ideal share: N x w_new / W_total = 1400 x 8 / 188 = 59.6 clients.
        const ideal = (1400 * 8) / (TOTAL_WEIGHT + 8);
        const moved = movedClients(plan, after);
        expect(moved.length).toBeLessThanOrEqual(1.5 * ideal);
        expect(moved.filter((m) => m.to === "app21").length).toBeGreaterThan(0);
        expect(maxOverMean(loads(after), plus)).toBeLessThanOrEqual(1.1);
    });

    it("fits Margot's lab: 17 thin clients on three recycled desktops", () => {
        // 4, 4 and 2 cores at bound 1.1: floor(1.1 x 17 x 4/10) = 7, 7 and floor(1.1 x 17 x 2/10) = 3, 17 places for 17
        // clients, so every desktop ends exactly at its capacity.
        const desktops = [
            { name: "desk1", address: "192.168.67.11", cores: 4 },
            { name: "desk2", address: "192.168.67.12", cores: 4 },
            { name: "desk3", address: "192.168.67.13", cores: 2 },
        ];
        const lab = MACS.slice(0, 17);
        expect(validateBalance({ policy: "sticky", servers: desktops }, lab).ok).toBe(true);
        expect([...loads(assignSticky(lab, desktops, 1.1)).values()]).toEqual([7, 7, 3]);
    });

    it("places new clients without moving the others", () => {
        const more = [...MACS, "52:54:00:20:00:01", "52:54:00:20:00:02"];
        const after = assignSticky(more, SERVERS, 1.1, plan);
        expect(movedClients(plan, after)).toEqual([]);
        expect(Object.keys(after.assignment)).toHaveLength(1402);
    });
});

describe("balancing in ltsp.conf", () => {
    const parsed = validateBalance(site(), MACS);
    if (!parsed.ok) throw new Error("bad fixture");

    it("writes each sticky client's server first, then its next two by rank", () => {
        const conf = balanceLtspConf(parsed.spec, MACS);
        const mac = MACS[7];
        const own = conf.plan!.assignment[mac];
        const address = (name: string) => SERVERS.find((s) => s.name === name)!.address;
        const rest = ranking(mac, SERVERS)
            .filter((s) => s !== own)
            .slice(0, 2);
        expect(conf.perClient[mac]).toEqual({ BALANCE_PREFER: [own, ...rest].map(address).join(" ") });
        expect(conf.clients.extra.BALANCE_POLICY).toBe("sticky");
        expect(conf.clients.commands).toEqual({ POST_INIT_BALANCE: ". /usr/share/boot-iac/balance-env.sh" });
        expect(conf.clients.extra.BALANCE_SERVERS.split(" ")).toHaveLength(30);
    });

    it("gives ltsp.conf sections that its own schema accepts, rendered as LTSP reads them", () => {
        const conf = balanceLtspConf(parsed.spec, MACS);
        const clients = ltspConfSectionSchema.parse(conf.clients);
        expect(sectionLines(clients)).toEqual([
            'BALANCE_POLICY="sticky"',
            'BALANCE_PORT="9571"',
            `BALANCE_SERVERS="${SERVERS.map((s) => s.address).join(" ")}"`,
            'BALANCE_SESSIONS_PER_CORE="10"',
            'BALANCE_TIMEOUT="2"',
            "POST_INIT_BALANCE='. /usr/share/boot-iac/balance-env.sh'",
        ]);
        for (const extra of Object.values(conf.perClient)) expect(ltspConfSectionSchema.safeParse({ extra }).success).toBe(true);
    });

    it("lists the clients that move, for preview", () => {
        const before = balanceLtspConf(parsed.spec, MACS).plan!;
        const fewer = validateBalance(site({ servers: SERVERS.filter((s) => s.name !== "app02") }), MACS);
        if (!fewer.ok) throw new Error("bad fixture");
        const conf = balanceLtspConf(fewer.spec, MACS, before);
        expect(conf.moved.length).toBe(Object.values(before.assignment).filter((s) => s === "app02").length);
        expect(conf.moved.every((m) => m.from === "app02")).toBe(true);
    });

    it("writes fixed servers per client and per group", () => {
        const fixed = validateBalance(
            site({
                policy: "fixed",
                fixed: { "52-54-00-10-00-01": "small02" },
                groups: { room12: { server: "app03", clients: ["525400100002", "52:54:00:10:00:03"] } },
            }),
            MACS,
        );
        if (!fixed.ok) throw new Error(fixed.failures.map((f) => f.reason).join("\n"));
        const conf = balanceLtspConf(fixed.spec, MACS);
        expect(conf.perClient).toEqual({
            "52:54:00:10:00:01": { BALANCE_PREFER: "10.0.2.2" },
            "52:54:00:10:00:02": { BALANCE_PREFER: "10.0.1.3" },
            "52:54:00:10:00:03": { BALANCE_PREFER: "10.0.1.3" },
        });
    });

    it("renders ldminfod's units: a socket per connection and a sandboxed service", () => {
        const units = ldminfodUnits({
            resource: "school",
            address: "10.0.1.2",
            network: "10.0.1.0/24",
            port: 9571,
            sessionsPerCore: 12,
            unitDir: "/etc/systemd/system",
        });
        expect(units["ldminfod.socket"].split("\n")[0]).toBe(
            "# /etc/systemd/system/ldminfod.socket, managed by netboot (school). `pulumi up` reverts hand edits.",
        );
        expect(units["ldminfod@.service"].split("\n")[0]).toBe(
            "# /etc/systemd/system/ldminfod@.service, managed by netboot (school). `pulumi up` reverts hand edits.",
        );
        expect(units["ldminfod.socket"]).toMatch(/^ListenStream=10\.0\.1\.2:9571$/m);
        expect(units["ldminfod.socket"]).toMatch(/^Accept=yes$/m);
        expect(units["ldminfod@.service"]).toMatch(/^StandardOutput=socket$/m);
        expect(units["ldminfod@.service"]).toMatch(/^DynamicUser=yes$/m);
        expect(units["ldminfod@.service"]).toMatch(/^Environment=LDMINFOD_SESSIONS_PER_CORE=12$/m);
    });
});
