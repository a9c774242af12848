import { createHash } from "node:crypto";
import { type AppServer, capacities, serverWeight } from "./spec";

/**
 * Sticky sessions: weighted rendezvous hashing (HRW) with bounded load.
 *
 * Every (client, server) pair gets a score -weight / ln(h), h a uniform number in (0, 1) from
 * sha256("mac|server name"). A client's servers ranked by score: without bounds each client takes
 * its first, and server s wins a client with probability weight_s / total weight (the minimum of
 * exponentials with rates 1/weight). Removing a server changes nobody else's first choice; adding
 * one takes exactly the clients that now rank it first.
 *
 * The bound: server s takes at most floor(bound x share_s x N) clients (spec.ts `capacities`).
 * A client whose better servers are full takes the next one in its ranking.
 *
 * Cascades. Recomputing the bounded assignment from scratch after a removal can move clients of
 * other servers: the removed server's clients take slots that others held. So the assignment is
 * computed from the previous one (the last `up`'s, fed back by the stack):
 *   1. clients whose ranking now puts a newly added server first, and whom a from-scratch
 *      assignment would give it, move there (this is the new server's share, within its bound);
 *   2. every other client keeps its previous server while that server exists and is within its
 *      bound (when it is over, it keeps the clients that score highest on it);
 *   3. the rest (new clients, clients of removed servers, the few over a bound) go, in MAC order,
 *      to the first server in their ranking that has room.
 * Removing a server raises the others' bounds (the same clients over less weight), so step 2
 * keeps every client of the remaining servers: only the removed server's clients move, by
 * construction. Without a previous assignment this is the from-scratch assignment.
 */

export type StickyServer = Pick<AppServer, "name" | "cores" | "weight" | "maxSessions">;

/** The result of an `up`, and what the next `up` starts from. */
export interface StickyPlan {
    /** Server names the plan was made for (sorted). */
    servers: string[];
    /** Client MAC -> server name. */
    assignment: Record<string, string>;
}

/** A uniform number in the open interval (0, 1), the same on every machine. */
export function hash01(mac: string, server: string): number {
    const digest = createHash("sha256").update(`${mac}|${server}`).digest();
    // The first 52 bits fill a double's mantissa exactly; +0.5 keeps it away from 0 and 1.
    const high = digest.readUInt32BE(0); // bits 0-31
    const low = digest.readUInt32BE(4) >>> 12; // bits 32-51
    return (high * 2 ** 20 + low + 0.5) / 2 ** 52;
}

export function hrwScore(mac: string, server: StickyServer): number {
    return -serverWeight(server) / Math.log(hash01(mac, server.name));
}

/** The client's servers, best first (ties, never seen in practice, by name). */
export function ranking(mac: string, servers: readonly StickyServer[]): string[] {
    return servers
        .map((s) => ({ name: s.name, score: hrwScore(mac, s) }))
        .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1))
        .map((s) => s.name);
}

function sortedUnique(values: readonly string[]): string[] {
    return [...new Set(values)].sort();
}

/** Clients in MAC order take the first server in their ranking that has room. */
function fill(
    clients: readonly string[],
    rankings: Map<string, string[]>,
    caps: Map<string, number>,
    load: Map<string, number>,
    out: Record<string, string>,
): void {
    for (const mac of clients) {
        const server = rankings.get(mac)!.find((s) => load.get(s)! < caps.get(s)!);
        if (server === undefined) throw new Error(`no server has room for client ${mac}: validate the capacities first (validateBalance)`);
        out[mac] = server;
        load.set(server, load.get(server)! + 1);
    }
}

/**
 * Assigns each client (normalized MAC) a server. Deterministic, and independent of the order of
 * `clients` and `servers`. `previous` is the plan of the last `up` (see the header).
 */
export function assignSticky(clients: readonly string[], servers: readonly StickyServer[], bound: number, previous?: StickyPlan): StickyPlan {
    const macs = sortedUnique(clients);
    const caps = capacities(servers, macs.length, bound);
    const rankings = new Map(macs.map((mac) => [mac, ranking(mac, servers)]));
    const names = sortedUnique(servers.map((s) => s.name));
    const load = new Map(names.map((n) => [n, 0]));
    const assignment: Record<string, string> = {};

    if (!previous) {
        fill(macs, rankings, caps, load, assignment);
        return { servers: names, assignment: sortObject(assignment) };
    }

    const before = new Set(previous.servers);
    const added = new Set(names.filter((n) => !before.has(n)));
    if (added.size) {
        // 1. The new servers' share: whom a from-scratch assignment puts there (within their bounds).
        const scratch = assignSticky(macs, servers, bound).assignment;
        for (const mac of macs) {
            if (added.has(scratch[mac])) {
                assignment[mac] = scratch[mac];
                load.set(scratch[mac], load.get(scratch[mac])! + 1);
            }
        }
    }
    // 2. Everyone else keeps a server that still exists, within its bound.
    const keepers = new Map<string, string[]>();
    for (const mac of macs) {
        const server = previous.assignment[mac];
        if (assignment[mac] !== undefined || server === undefined || !load.has(server)) continue;
        keepers.set(server, [...(keepers.get(server) ?? []), mac]);
    }
    const byName = new Map(servers.map((s) => [s.name, s]));
    for (const [server, kept] of keepers) {
        const room = caps.get(server)! - load.get(server)!;
        const keep =
            kept.length <= room
                ? kept
                : kept
                      .map((mac) => ({ mac, score: hrwScore(mac, byName.get(server)!) }))
                      .sort((a, b) => b.score - a.score || (a.mac < b.mac ? -1 : 1))
                      .slice(0, Math.max(0, room))
                      .map((k) => k.mac);
        for (const mac of keep) assignment[mac] = server;
        load.set(server, load.get(server)! + keep.length);
    }
    // 3. The rest, in MAC order, to the first server in their ranking with room.
    fill(
        macs.filter((mac) => assignment[mac] === undefined),
        rankings,
        caps,
        load,
        assignment,
    );
    return { servers: names, assignment: sortObject(assignment) };
}

function sortObject(record: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
        Object.keys(record)
            .sort()
            .map((k) => [k, record[k]]),
    );
}

/** Clients whose server differs between two plans (clients in only one of them are not moves). */
export function movedClients(before: StickyPlan, after: StickyPlan): Array<{ mac: string; from: string; to: string }> {
    return Object.keys(after.assignment)
        .filter((mac) => before.assignment[mac] !== undefined && before.assignment[mac] !== after.assignment[mac])
        .map((mac) => ({ mac, from: before.assignment[mac], to: after.assignment[mac] }));
}

/** Clients per server. */
export function loads(plan: StickyPlan): Map<string, number> {
    const counts = new Map(plan.servers.map((s) => [s, 0]));
    for (const server of Object.values(plan.assignment)) counts.set(server, (counts.get(server) ?? 0) + 1);
    return counts;
}

/**
 * max/mean utilisation. A server's utilisation is its clients / its weight; the mean is all
 * clients / all weight (every server at exactly its weighted share gives 1.0).
 */
export function maxOverMean(counts: ReadonlyMap<string, number>, servers: readonly Pick<AppServer, "name" | "cores" | "weight">[]): number {
    const total = servers.reduce((sum, s) => sum + serverWeight(s), 0);
    const clients = [...counts.values()].reduce((a, b) => a + b, 0);
    const mean = clients / total;
    return Math.max(...servers.map((s) => (counts.get(s.name) ?? 0) / serverWeight(s))) / mean;
}
