import { isDeepStrictEqual } from "node:util";
import type { NodeSpec } from "../core/node";
import { ofKind, type Props, type ResourceChange } from "./preview";

/** A client as the report sees it: the NodeAssignment's checked inputs, under its resource name. */
export type NodeView = Omit<NodeSpec, "nodeName"> & { name: string };

export function nodeView(name: string, props: Props): NodeView {
    return {
        name,
        hostname: String(props.hostname ?? name),
        mac: String(props.mac ?? ""),
        image: String(props.image ?? ""),
        ip: props.ip === undefined || props.ip === null ? undefined : String(props.ip),
        kernelParameters: props.kernelParameters === undefined || props.kernelParameters === null ? undefined : String(props.kernelParameters),
        menuTimeout: typeof props.menuTimeout === "number" ? props.menuTimeout : undefined,
        ltspConf: (props.ltspConf as Record<string, string> | undefined) ?? {},
        role: String(props.role ?? ""),
    };
}

/**
 * The ltsp.conf keys that name the application server a client's sessions go to: the school
 * site's BALANCE_PREFER (fixed and sticky balancing: the client's servers, best first), and
 * LTSP 23's SERVER (the LTSP/login server) and SSH_SERVER (`ssh -X` sessions). The first one set
 * wins; of a list, its first entry.
 */
export const APP_SERVER_KEYS = ["BALANCE_PREFER", "SERVER", "SSH_SERVER"] as const;

export function appServerOf(node: NodeView): string | undefined {
    for (const key of APP_SERVER_KEYS) if (node.ltspConf[key]?.trim()) return node.ltspConf[key].trim().split(/\s+/)[0];
    return undefined;
}

/** A school site's application servers as its SessionBalance lists them (`balance.servers`: name, address). */
function balanceServers(props: Props | undefined): Array<{ name: string; address: string }> | undefined {
    const servers = (props?.balance as { servers?: unknown } | undefined)?.servers;
    if (!Array.isArray(servers)) return undefined;
    return servers.map((s: { name?: unknown; address?: unknown }) => ({ name: String(s.name ?? ""), address: String(s.address ?? "") }));
}

/**
 * Address -> name of the application servers: ltsp.conf names a client's server by address, a
 * reviewer by name. From the site's SessionBalance, before and after the change (so a removed
 * server is still named); an address it does not list reads as itself.
 */
export function appServerNames(changes: readonly ResourceChange[]): (address: string) => string {
    const names = new Map<string, string>();
    for (const c of changes) for (const props of [c.before, c.after]) for (const s of balanceServers(props) ?? []) names.set(s.address, s.name);
    return (address) => names.get(address) ?? address;
}

/**
 * The application servers before and after the change when the site lists them (a SessionBalance
 * in the preview: its server list changed or not); undefined when no change lists them.
 */
export function listedAppServers(changes: readonly ResourceChange[]): { before: Set<string>; after: Set<string> } | undefined {
    for (const c of changes) {
        if (!balanceServers(c.before) && !balanceServers(c.after)) continue;
        const before = c.op === "create" ? [] : (balanceServers(c.before) ?? []);
        const after = c.op === "delete" ? [] : (balanceServers(c.after) ?? []);
        return { before: new Set(before.map((s) => s.name)), after: new Set(after.map((s) => s.name)) };
    }
    return undefined;
}

export type NodeMove =
    | { kind: "new"; node: NodeView }
    | { kind: "removed"; node: NodeView }
    | { kind: "renamed"; from: NodeView; node: NodeView; fields: FieldChange[] }
    | { kind: "changed"; from: NodeView; node: NodeView; fields: FieldChange[] };

export interface FieldChange {
    field: string;
    before: string;
    after: string;
}

/** How a field is named in a node line, and how its value reads. */
const FIELDS: Array<{ field: string; label: string; value: (n: NodeView) => string }> = [
    { field: "image", label: "image", value: (n) => n.image },
    { field: "mac", label: "MAC", value: (n) => n.mac },
    { field: "hostname", label: "hostname", value: (n) => n.hostname },
    { field: "ip", label: "IP", value: (n) => n.ip ?? "(dynamic)" },
    {
        field: "kernelParameters",
        label: "kernel parameters",
        value: (n) => (n.kernelParameters === undefined ? "(none)" : `"${n.kernelParameters}"`),
    },
    { field: "menuTimeout", label: "menu timeout", value: (n) => (n.menuTimeout === undefined ? "(default)" : `${n.menuTimeout} ms`) },
    { field: "role", label: "role", value: (n) => n.role || "(none)" },
];

export function fieldChanges(from: NodeView, to: NodeView, appServerName: (address: string) => string = (a) => a): FieldChange[] {
    const changes: FieldChange[] = [];
    for (const { field, label, value } of FIELDS) {
        if (field === "hostname" && from.name === from.hostname && to.name === to.hostname) continue; // said by the rename
        const before = value(from);
        const after = value(to);
        if (before !== after) changes.push({ field: label, before, after });
    }
    const keys = [...new Set([...Object.keys(from.ltspConf), ...Object.keys(to.ltspConf)])].sort();
    for (const key of keys) {
        const before = from.ltspConf[key];
        const after = to.ltspConf[key];
        if (before === after) continue;
        if (key === "BALANCE_PREFER") {
            // The client's own server (the list's first entry) is what a reviewer reads; the rest is its fallback order.
            const named = (v: string | undefined) => (v?.trim() ? v.trim().split(/\s+/).map(appServerName).join(", ") : "(unset)");
            changes.push({ field: "app server", before: named(before), after: named(after) });
        } else changes.push({ field: key, before: before ?? "(unset)", after: after ?? "(unset)" });
    }
    return changes;
}

/** Every node that is new, removed, renamed (same MAC, other resource) or changed, by host name. */
export function nodeMoves(changes: readonly ResourceChange[]): NodeMove[] {
    const nodes = ofKind(changes, "NodeAssignment");
    const appServerName = appServerNames(changes);
    const created = nodes.filter((c) => c.op === "create" && c.after).map((c) => nodeView(c.name, c.after!));
    const deleted = nodes.filter((c) => c.op === "delete" && c.before).map((c) => nodeView(c.name, c.before!));
    const moves: NodeMove[] = [];
    const deletedByMac = new Map(deleted.map((n) => [n.mac, n]));
    const renamedMacs = new Set<string>();
    for (const node of created) {
        const from = deletedByMac.get(node.mac);
        if (from) {
            renamedMacs.add(node.mac);
            moves.push({ kind: "renamed", from, node, fields: fieldChanges(from, node, appServerName) });
        } else {
            moves.push({ kind: "new", node });
        }
    }
    for (const node of deleted) if (!renamedMacs.has(node.mac)) moves.push({ kind: "removed", node });
    for (const c of nodes) {
        if ((c.op !== "update" && c.op !== "replace") || !c.before || !c.after) continue;
        const from = nodeView(c.name, c.before);
        const node = nodeView(c.name, c.after);
        const fields = fieldChanges(from, node, appServerName);
        if (fields.length || !isDeepStrictEqual(c.before, c.after)) moves.push({ kind: "changed", from, node, fields });
    }
    return moves.sort((a, b) => a.node.hostname.localeCompare(b.node.hostname, "en", { numeric: true }));
}

/** One line per node, in plain words: `pc07: image thin → render`, `pc12: new, 52:54:00:…, image thin`. */
export function describeMove(move: NodeMove): string {
    const n = move.node;
    const facts = (v: NodeView) => [v.mac, `image ${v.image}`, ...(v.ip ? [v.ip] : []), ...(v.role ? [`role ${v.role}`] : [])].join(", ");
    const fields = (list: FieldChange[]) => list.map((f) => `${f.field} ${f.before} → ${f.after}`).join("; ");
    switch (move.kind) {
        case "new":
            return `${n.hostname}: new, ${facts(n)}`;
        case "removed":
            return `${n.hostname}: removed (was ${facts(n)})`;
        case "renamed":
            return `${move.from.hostname} renamed ${n.hostname}${move.fields.length ? `; ${fields(move.fields)}` : ""}`;
        case "changed":
            return `${n.hostname}: ${move.fields.length ? fields(move.fields) : "inputs changed"}`;
    }
}

export interface AppServerMove {
    /** `added`: no client used this server before; `removed`: none uses it after; `moved`: between two servers kept. */
    kind: "added" | "removed" | "moved";
    /** added/removed: the server; moved: unset. */
    server?: string;
    from?: string;
    to?: string;
    /** Clients that existed before and after and change server. */
    clients: number;
    /** New clients that start on an added server. */
    newClients: number;
    /** added: where its clients come from; removed: where its clients go (server or "" for none) -> count. */
    breakdown: Record<string, number>;
}

/**
 * Which application servers appear or disappear and how many clients move between them, from
 * the nodes' SERVER / SSH_SERVER before and after. Unchanged nodes count for which servers exist.
 */
export function appServerMoves(changes: readonly ResourceChange[]): AppServerMove[] {
    const nodes = ofKind(changes, "NodeAssignment");
    const name = appServerNames(changes);
    const nameOf = (address: string | undefined) => (address === undefined ? undefined : name(address));
    const serverBefore = (c: ResourceChange) => (c.op === "create" || !c.before ? undefined : nameOf(appServerOf(nodeView(c.name, c.before))));
    const serverAfter = (c: ResourceChange) => (c.op === "delete" || !c.after ? undefined : nameOf(appServerOf(nodeView(c.name, c.after))));
    // Which servers exist: the site's own list when the preview has it; else the servers the nodes name. When the
    // nodes name their servers by BALANCE_PREFER (a school site) but its list is not in the preview, it did not
    // change: no server came or went, whatever the changed nodes alone would suggest.
    const listed = listedAppServers(changes);
    const balanced = nodes.some((c) => [c.before, c.after].some((p) => p && nodeView(c.name, p).ltspConf.BALANCE_PREFER));
    const named = [...nodes.map(serverBefore), ...nodes.map(serverAfter)].filter((s): s is string => !!s);
    const existedBefore = listed?.before ?? (balanced ? new Set(named) : new Set(nodes.map(serverBefore).filter((s): s is string => !!s)));
    const existsAfter = listed?.after ?? (balanced ? new Set(named) : new Set(nodes.map(serverAfter).filter((s): s is string => !!s)));
    const moves = new Map<string, AppServerMove>();
    const entry = (key: string, init: Omit<AppServerMove, "clients" | "newClients" | "breakdown">) => {
        if (!moves.has(key)) moves.set(key, { ...init, clients: 0, newClients: 0, breakdown: {} });
        return moves.get(key)!;
    };
    for (const server of existsAfter) if (!existedBefore.has(server)) entry(`+${server}`, { kind: "added", server });
    for (const server of existedBefore) if (!existsAfter.has(server)) entry(`-${server}`, { kind: "removed", server });
    for (const c of nodes) {
        if (c.op === "same" || c.op === "delete") continue;
        const before = serverBefore(c);
        const after = serverAfter(c);
        if (c.op === "create") {
            if (after && !existedBefore.has(after)) entry(`+${after}`, { kind: "added", server: after }).newClients++;
            continue;
        }
        if (before === after) continue;
        if (after && !existedBefore.has(after)) {
            const added = entry(`+${after}`, { kind: "added", server: after });
            added.clients++;
            added.breakdown[before ?? ""] = (added.breakdown[before ?? ""] ?? 0) + 1;
        }
        if (before && !existsAfter.has(before)) {
            const removed = entry(`-${before}`, { kind: "removed", server: before });
            removed.clients++;
            removed.breakdown[after ?? ""] = (removed.breakdown[after ?? ""] ?? 0) + 1;
        }
        if ((!after || existedBefore.has(after)) && (!before || existsAfter.has(before))) {
            entry(`${before ?? ""}>${after ?? ""}`, { kind: "moved", from: before, to: after }).clients++;
        }
    }
    const order = { added: 0, removed: 1, moved: 2 };
    const label = (m: AppServerMove) => m.server ?? `${m.from ?? ""} ${m.to ?? ""}`;
    return [...moves.values()].sort((a, b) => order[a.kind] - order[b.kind] || label(a).localeCompare(label(b), "en", { numeric: true }));
}

function moves(n: number): string {
    return n === 1 ? "moves" : "move";
}

function clients(n: number): string {
    return `${n} client${n === 1 ? "" : "s"}`;
}

function breakdown(counts: Record<string, number>, direction: "from" | "to"): string {
    return Object.entries(counts)
        .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
        .map(([server, n]) => `${n} ${direction} ${server === "" ? "no app server" : server}`)
        .join(", ");
}

/** `app server 10.0.0.13 added: 47 clients move to it (30 from app01, 17 from app02)`. */
export function describeAppServerMove(move: AppServerMove): string {
    if (move.kind === "added") {
        const from = Object.keys(move.breakdown).length ? ` (${breakdown(move.breakdown, "from")})` : "";
        const parts = [
            ...(move.clients ? [`${clients(move.clients)} ${moves(move.clients)} to it${from}`] : []),
            ...(move.newClients ? [`${clients(move.newClients)} new on it`] : []),
        ];
        return `app server ${move.server} added: ${parts.join(", ") || "no client uses it yet"}`;
    }
    if (move.kind === "removed") {
        return move.clients
            ? `app server ${move.server} removed: ${clients(move.clients)} ${moves(move.clients)} off it (${breakdown(move.breakdown, "to")})`
            : `app server ${move.server} removed: no client uses it any more`;
    }
    return `${clients(move.clients)} ${moves(move.clients)} from ${move.from ?? "no app server"} to ${move.to ?? "no app server"}`;
}
