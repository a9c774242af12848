import { normalizeMac } from "../core/node";
import type { BalanceSpec } from "./spec";
import { assignSticky, movedClients, ranking, type StickyPlan } from "./sticky";

/** Where the client image keeps balance-env.sh and chooser.sh. */
export const CLIENT_SCRIPT_DIR = "/usr/share/boot-iac";

/** Servers a sticky client may fall back to, after its own, when its server does not answer. */
export const STICKY_FALLBACKS = 2;

/**
 * The ltsp.conf parameters of balancing, shaped as ltsp.conf sections (lib/ltsp/ltspConf.ts):
 * `clients` for the [clients] section (plain parameters in `extra`, the boot hook in `commands`),
 * `perClient` the `extra` of each client's [MAC] section (fixed and sticky: BALANCE_PREFER, its
 * servers best first).
 * For sticky, `plan` is what the next `up` passes back as `previous`, and `moved` lists the
 * clients whose server changes against `previous`: preview shows them as changed sections.
 */
export interface BalanceConf {
    clients: { extra: Record<string, string>; commands: Record<string, string> };
    perClient: Record<string, Record<string, string>>;
    plan?: StickyPlan;
    moved: Array<{ mac: string; from: string; to: string }>;
}

/**
 * `fallbacks`: how many servers after its own a sticky client lists (default STICKY_FALLBACKS).
 * With 0 a client's section names its own server only, so it changes exactly when the client
 * moves (the school site: a preview then shows the moved clients and nobody else); a client whose
 * server does not answer falls back to `weighted` over the servers that do.
 */
/** The ltsp.conf parameters balanceLtspConf writes (into [clients] and each client's section): nobody else's to set. */
export const BALANCE_PARAMETER = /^(BALANCE_[A-Z0-9_]+|POST_INIT_BALANCE)$/;

export function balanceLtspConf(
    spec: BalanceSpec,
    clientMacs: readonly string[],
    previous?: StickyPlan,
    opts: { fallbacks?: number } = {},
): BalanceConf {
    const address = new Map(spec.servers.map((s) => [s.name, s.address]));
    const macs = [...new Set(clientMacs.map((m) => normalizeMac(m) ?? m))].sort();
    const clients = {
        extra: {
            BALANCE_POLICY: spec.policy,
            BALANCE_SERVERS: spec.servers.map((s) => s.address).join(" "),
            BALANCE_PORT: String(spec.port),
            BALANCE_TIMEOUT: String(spec.timeoutSeconds),
            BALANCE_SESSIONS_PER_CORE: String(spec.sessionsPerCore),
        },
        // Sourced in LTSP's shell, where the parameters are set (balance-env.sh says why).
        commands: { POST_INIT_BALANCE: `. ${CLIENT_SCRIPT_DIR}/balance-env.sh` },
    };
    const perClient: Record<string, Record<string, string>> = {};
    if (spec.policy === "fixed") {
        const fixed = new Map<string, string>();
        for (const group of Object.values(spec.groups)) for (const c of group.clients) fixed.set(normalizeMac(c)!, group.server);
        for (const [c, server] of Object.entries(spec.fixed)) fixed.set(normalizeMac(c)!, server);
        for (const mac of macs) {
            const server = fixed.get(mac);
            if (server) perClient[mac] = { BALANCE_PREFER: address.get(server)! };
        }
        return { clients, perClient, moved: [] };
    }
    if (spec.policy !== "sticky") return { clients, perClient, moved: [] };

    const plan = assignSticky(macs, spec.servers, spec.bound, previous);
    for (const mac of macs) {
        const own = plan.assignment[mac];
        const fallbacks = ranking(mac, spec.servers)
            .filter((s) => s !== own)
            .slice(0, opts.fallbacks ?? STICKY_FALLBACKS);
        perClient[mac] = { BALANCE_PREFER: [own, ...fallbacks].map((s) => address.get(s)!).join(" ") };
    }
    return { clients, perClient, plan, moved: previous ? movedClients(previous, plan) : [] };
}
