import { z } from "zod";
import { type CheckFailure, describeValue, dnsLabel, formatIssues, hostOrAddress, port } from "../core/fields";
import { normalizeMac } from "../core/node";

/**
 * The school site's session balancing: which application server a thin client's session opens on.
 *
 * - fixed:      each client (or group of clients) has its server; the others fall back to `weighted`.
 * - random:     any answering server, uniformly (the 2007 spec's "randomized"; ignores server size).
 * - best-rated: the better rated of two servers drawn by size (power of two choices; see choose.ts).
 * - weighted:   random, probability by size and by how far the server is below the most loaded one.
 * - sticky:     a client keeps its server across sessions: weighted rendezvous hashing with bounded
 *               load, computed at `up` and written into the client's ltsp.conf section (sticky.ts).
 */
export const POLICIES = ["fixed", "random", "best-rated", "weighted", "sticky"] as const;
export type Policy = (typeof POLICIES)[number];

/** Port of the old LTSP ldminfod, kept for the load-advertising service that succeeds it. */
export const LDMINFOD_PORT = 9571;

const serverSchema = z
    .object({
        /** Stable name: the sticky hash uses it, so a server may change its address without moving clients. */
        name: dnsLabel,
        /** Where thin clients reach its ldminfod and open sessions. */
        address: hostOrAddress,
        cores: z.number().int("is not a whole number").min(1, "must be 1 or more"),
        /** Informative (the server's own ldminfod reports its free memory at login time). */
        memoryMb: z.number().int("is not a whole number").min(1, "must be 1 or more").optional(),
        /** Share of the clients relative to the other servers; defaults to `cores` (the server's size). */
        weight: z
            .number()
            .finite("is not a finite number")
            .gt(0, "must be more than 0 (a server that takes no clients is removed from the list)")
            .optional(),
        /** A hard limit of sessions on this server, whatever the weights say. */
        maxSessions: z.number().int("is not a whole number").min(1, "must be 1 or more").optional(),
    })
    .strict();

const groupSchema = z
    .object({
        server: dnsLabel,
        clients: z.array(z.string()).min(1, "must list at least one client MAC"),
    })
    .strict();

export const balanceSchema = z
    .object({
        policy: z.enum(POLICIES),
        servers: z.array(serverSchema).min(1, "must list at least one application server"),
        /**
         * Sticky only: no server gets more than `bound` times its weighted share of the clients
         * (utilisation max/mean <= bound). Between 1.0 (exact shares, more clients move) and 2.0.
         */
        bound: z.number().min(1, "must be 1.0 or more (1.0 = exactly the weighted share)").max(2, "must be at most 2.0").default(1.1),
        /** fixed: MAC -> server name. */
        fixed: z.record(z.string(), dnsLabel).default({}),
        /** fixed: named groups of clients that share a server (a classroom). */
        groups: z.record(dnsLabel, groupSchema).default({}),
        /** TCP port of ldminfod on every server. */
        port: port.default(LDMINFOD_PORT),
        /** Sessions per core at which ldminfod rates a server full (its rating formula, rating.ts). */
        sessionsPerCore: z.number().int("is not a whole number").min(1, "must be 1 or more").max(1000, "must be at most 1000").default(10),
        /** Seconds the chooser waits for each server's answer. */
        timeoutSeconds: z.number().int("is not a whole number").min(1, "must be 1 or more").max(30, "must be at most 30").default(2),
    })
    .strict()
    .superRefine((spec, ctx) => {
        const names = new Map<string, number>();
        const addresses = new Map<string, number>();
        /** Records servers[i]'s `field` under `key` in `seen`, or refuses it naming the server that has it. */
        const once = (seen: Map<string, number>, key: string, i: number, field: "name" | "address", input: string) => {
            const same = seen.get(key);
            if (same !== undefined)
                ctx.addIssue({ code: "custom", path: ["servers", i, field], input, message: `is also the ${field} of servers[${same}]` });
            else seen.set(key, i);
        };
        spec.servers.forEach((server, i) => {
            once(names, server.name, i, "name", server.name);
            once(addresses, server.address.toLowerCase(), i, "address", server.address);
        });
        const known = () => `known servers: ${[...names.keys()].join(", ")}`;
        const fixedClients = new Map<string, string>();
        for (const [client, server] of Object.entries(spec.fixed)) {
            const mac = normalizeMac(client);
            if (!mac)
                ctx.addIssue({
                    code: "custom",
                    path: ["fixed", client],
                    input: client,
                    message: "is not a client MAC address (like 52:54:00:12:34:56)",
                });
            else if (fixedClients.has(mac))
                ctx.addIssue({
                    code: "custom",
                    path: ["fixed", client],
                    input: client,
                    message: `is the same client as fixed.${fixedClients.get(mac)}`,
                });
            else fixedClients.set(mac, `${client}`);
            if (!names.has(server))
                ctx.addIssue({ code: "custom", path: ["fixed", client], input: server, message: `is not a server of this site (${known()})` });
        }
        for (const [groupName, group] of Object.entries(spec.groups)) {
            if (!names.has(group.server)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["groups", groupName, "server"],
                    input: group.server,
                    message: `is not a server of this site (${known()})`,
                });
            }
            group.clients.forEach((client, i) => {
                const mac = normalizeMac(client);
                const where = `groups.${groupName}.clients[${i}]`;
                if (!mac)
                    ctx.addIssue({
                        code: "custom",
                        path: ["groups", groupName, "clients", i],
                        input: client,
                        message: "is not a client MAC address (like 52:54:00:12:34:56)",
                    });
                else if (fixedClients.has(mac)) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["groups", groupName, "clients", i],
                        input: client,
                        message: `is already assigned by ${fixedClients.get(mac)}`,
                    });
                } else fixedClients.set(mac, where);
            });
        }
    });

export type BalanceInput = z.input<typeof balanceSchema>;
export type BalanceSpec = z.infer<typeof balanceSchema>;
export type AppServer = BalanceSpec["servers"][number];

export type BalanceValidated = { ok: true; spec: BalanceSpec } | { ok: false; failures: CheckFailure[] };

/** A server's weight: its explicit weight, else its size in cores. */
export function serverWeight(server: Pick<AppServer, "cores" | "weight">): number {
    return server.weight ?? server.cores;
}

/**
 * How many clients each server may take: floor(bound x weight share x clients), and never more
 * than its maxSessions. The floor makes the bound exact (max/mean utilisation <= bound), at the
 * price that small sites may not fit: `checkBalance` rejects those.
 */
export function capacities(
    servers: readonly Pick<AppServer, "name" | "cores" | "weight" | "maxSessions">[],
    clients: number,
    bound: number,
): Map<string, number> {
    const total = servers.reduce((sum, s) => sum + serverWeight(s), 0);
    // A tiny epsilon: 1.1 * 62.2222 may come out as 68.44444 or 68.4444399; only whole clients count.
    return new Map(servers.map((s) => [s.name, Math.min(Math.floor((bound * serverWeight(s) * clients) / total + 1e-9), s.maxSessions ?? Infinity)]));
}

/**
 * Validates the site's balancing config against the clients it serves (their MACs): field
 * errors first, then whether the servers can hold the clients at all.
 */
export function validateBalance(inputs: unknown, clients: readonly string[]): BalanceValidated {
    const result = balanceSchema.safeParse(inputs, { reportInput: true });
    if (!result.success) return { ok: false, failures: formatIssues(result.error.issues) };
    const spec = result.data;
    const failures: CheckFailure[] = [];
    const n = new Set(clients.map((c) => normalizeMac(c) ?? c)).size;
    const limits = spec.servers.map((s) => s.maxSessions ?? Infinity);
    const hardTotal = limits.reduce((a, b) => a + b, 0);
    if (hardTotal < n) {
        failures.push({
            property: "servers",
            reason: `servers: their maxSessions add up to ${hardTotal}, fewer than the ${n} clients; raise maxSessions or add servers`,
        });
    } else if (spec.policy === "sticky") {
        const caps = capacities(spec.servers, n, spec.bound);
        const total = [...caps.values()].reduce((a, b) => a + b, 0);
        if (total < n) {
            failures.push({
                property: "bound",
                reason:
                    `bound: ${describeValue(spec.bound)} lets the ${spec.servers.length} servers hold only ${total} of the ${n} clients ` +
                    `(each takes at most floor(bound x its weight share x clients)${spec.servers.some((s) => s.maxSessions) ? " and its maxSessions" : ""}); ` +
                    `raise bound or add servers`,
            });
        }
    }
    return failures.length ? { ok: false, failures } : { ok: true, spec };
}
