import { appServerNames, appServerOf, listedAppServers, nodeView } from "./nodes";
import { type Op, ofKind, type Props, type ResourceChange } from "./preview";

/**
 * The site after the change as a Mermaid flowchart: DHCP scopes point clients at LTSP servers,
 * servers serve images, each image boots a number of nodes (one box per image, never one per
 * node, so 1400 nodes draw as a handful of boxes), and the nodes' sessions go to application
 * servers. What the change creates or deletes is styled so (deleted ones are drawn dashed).
 */
export interface Topology {
    servers: Array<{ name: string; address: string; op: Op }>;
    scopes: Array<{ name: string; kind: string; subnet: string; nextServer: string; op: Op }>;
    images: Array<{ name: string; server: string; op: Op }>;
    /** image -> how many nodes boot it after the change (and before). */
    bootCounts: Array<{ image: string; before: number; after: number }>;
    /** image -> app server -> node count, after the change. */
    sessions: Array<{ image: string; appServer: string; nodes: number }>;
    appServers: Array<{ name: string; op: Op }>;
}

function str(value: unknown): string {
    return value === undefined || value === null ? "" : String(value);
}

function stateOf(c: ResourceChange): Props {
    return (c.op === "delete" ? c.before : (c.after ?? c.before)) ?? {};
}

export function topologyOf(changes: readonly ResourceChange[]): Topology {
    const servers = ofKind(changes, "LtspServer").map((c) => {
        const lan = (stateOf(c).lan as { address?: string } | undefined)?.address ?? "";
        return { name: c.name, address: lan.split("/")[0] || str((stateOf(c).connection as Props | undefined)?.host), op: c.op };
    });
    const scopes = ofKind(changes, "DhcpScope").map((c) => {
        const s = stateOf(c);
        return { name: c.name, kind: str(s.kind), subnet: str(s.subnet), nextServer: str((s.boot as Props | undefined)?.nextServer), op: c.op };
    });
    const serverOfImage = new Map<string, string>();
    for (const c of ofKind(changes, "LtspServer"))
        for (const image of (stateOf(c).images as string[] | undefined) ?? []) serverOfImage.set(image, c.name);
    const images = ofKind(changes, "ChrootImage").map((c) => {
        const name = str(stateOf(c).name) || c.name;
        return { name, server: serverOfImage.get(name) ?? "", op: c.op };
    });

    const counts = new Map<string, { before: number; after: number }>();
    const sessions = new Map<string, number>();
    const appBefore = new Set<string>();
    const appAfter = new Set<string>();
    const appServerName = appServerNames(changes);
    const named = (node: ReturnType<typeof nodeView>) => {
        const address = appServerOf(node);
        return address === undefined ? undefined : appServerName(address);
    };
    const count = (image: string, field: "before" | "after") => {
        const entry = counts.get(image) ?? { before: 0, after: 0 };
        entry[field]++;
        counts.set(image, entry);
    };
    for (const c of ofKind(changes, "NodeAssignment")) {
        if (c.op !== "create" && c.before) {
            const node = nodeView(c.name, c.before);
            count(node.image, "before");
            const app = named(node);
            if (app) appBefore.add(app);
        }
        if (c.op !== "delete" && c.after) {
            const node = nodeView(c.name, c.after);
            count(node.image, "after");
            const app = named(node);
            if (app) {
                appAfter.add(app);
                const key = `${node.image}\u0000${app}`;
                sessions.set(key, (sessions.get(key) ?? 0) + 1);
            }
        }
    }
    for (const image of images) if (!counts.has(image.name)) counts.set(image.name, { before: 0, after: 0 });
    // The site's own server list when the preview has it (a SessionBalance), else what the changed nodes name.
    const listed = listedAppServers(changes);
    const before = listed?.before ?? appBefore;
    const after = listed?.after ?? appAfter;
    const appServers = [...new Set([...appBefore, ...appAfter, ...(listed ? [...listed.before, ...listed.after] : [])])].map((name) => ({
        name,
        op: (!before.has(name) ? "create" : !after.has(name) ? "delete" : "same") as Op,
    }));
    return {
        servers,
        scopes,
        images,
        bootCounts: [...counts].map(([image, c]) => ({ image, ...c })).sort((a, b) => natural(a.image, b.image)),
        sessions: [...sessions]
            .map(([key, nodes]) => ({ image: key.split("\u0000")[0], appServer: key.split("\u0000")[1], nodes }))
            .sort((a, b) => natural(a.image, b.image) || natural(a.appServer, b.appServer)),
        appServers: appServers.sort((a, b) => natural(a.name, b.name)),
    };
}

function natural(a: string, b: string): number {
    return a.localeCompare(b, "en", { numeric: true });
}

/** A Mermaid node id: letters, digits and _ only. */
function id(prefix: string, name: string): string {
    return `${prefix}_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** A label inside ["..."]: Mermaid has entity codes for what would end it. */
function label(text: string): string {
    return text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

const OP_CLASS: Partial<Record<Op, string>> = { create: "created", delete: "deleted", replace: "replaced", update: "updated" };

export function renderMermaid(t: Topology): string {
    const lines = ["flowchart LR"];
    const classes: Array<[string, string]> = [];
    const mark = (nodeId: string, op: Op) => {
        const cls = OP_CLASS[op];
        if (cls) classes.push([nodeId, cls]);
    };
    const suffix = (op: Op) => (op === "create" ? " (new)" : op === "delete" ? " (removed)" : op === "replace" ? " (replaced)" : "");
    for (const s of t.scopes) {
        const sid = id("scope", s.name);
        lines.push(`    ${sid}[/"DHCP ${label(s.name)}${suffix(s.op)}<br/>${label(s.kind)} ${label(s.subnet)}"/]`);
        mark(sid, s.op);
    }
    for (const s of t.servers) {
        const sid = id("server", s.name);
        lines.push(`    ${sid}["LTSP server ${label(s.name)}${suffix(s.op)}<br/>${label(s.address)}"]`);
        mark(sid, s.op);
    }
    for (const s of t.scopes) {
        const target = t.servers.find((v) => v.address === s.nextServer);
        if (target) lines.push(`    ${id("scope", s.name)} -->|next-server| ${id("server", target.name)}`);
    }
    const imageOps = new Map(t.images.map((i) => [i.name, i]));
    for (const c of t.bootCounts) {
        const image = imageOps.get(c.image);
        const iid = id("image", c.image);
        lines.push(`    ${iid}[("image ${label(c.image)}${suffix(image?.op ?? "same")}")]`);
        if (image) mark(iid, image.op);
        if (image?.server) lines.push(`    ${id("server", image.server)} -->|serves| ${iid}`);
        const nid = id("nodes", c.image);
        const change = c.before === c.after ? "" : ` (was ${c.before})`;
        lines.push(`    ${nid}(["${c.after} node${c.after === 1 ? "" : "s"}${change}"])`);
        lines.push(`    ${iid} -->|boots| ${nid}`);
    }
    for (const a of t.appServers) {
        const aid = id("app", a.name);
        lines.push(`    ${aid}{{"app server ${label(a.name)}${suffix(a.op)}"}}`);
        mark(aid, a.op);
    }
    for (const s of t.sessions)
        lines.push(`    ${id("nodes", s.image)} -->|"${s.nodes} session${s.nodes === 1 ? "" : "s"}"| ${id("app", s.appServer)}`);
    lines.push("    classDef created stroke:#2da44e,stroke-width:3px");
    lines.push("    classDef deleted stroke:#cf222e,stroke-width:3px,stroke-dasharray:5 5");
    lines.push("    classDef replaced stroke:#bf8700,stroke-width:3px");
    lines.push("    classDef updated stroke:#0969da,stroke-width:2px");
    for (const [nodeId, cls] of classes) lines.push(`    class ${nodeId} ${cls}`);
    return `${lines.join("\n")}\n`;
}
