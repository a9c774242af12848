import { isDeepStrictEqual } from "node:util";
import { NORMAL_MAC } from "../core/node";
import { filesOf } from "./files";
import { changedSections } from "./ltspConfText";
import { appServerNames, type FieldChange, fieldChanges, type NodeView, nodeView } from "./nodes";
import { ofKind, type Props, type ResourceChange } from "./preview";

/**
 * What a change does to running clients. The rules (LTSP 23 reads ltsp.conf and the image only
 * at boot; DHCP settings reach a client only in a DHCP exchange):
 *
 * - a client whose own settings change (image, kernel parameters, menu timeout, host name, MAC,
 *   its ltsp.conf [MAC] section) must reboot to take them; its role is inventory only;
 * - ltsp.conf [clients] or [common] changed: every client of that server must reboot; [server]
 *   is read by the server's own applets (`ltsp ipxe`, ...), running clients keep running;
 * - an image rebuilt (or rolled back): its clients keep the old build until they reboot, and must
 *   reboot to run the new one; a server replaced (another host): all its clients must reboot;
 * - a changed DHCP configuration (a DhcpScope's files, the LTSP server's dnsmasq config) or a
 *   changed reservation (the node's IP) reaches a client at its next DHCP exchange (lease renewal
 *   or boot): running clients keep running; a scope replaced is deleted first, so for that moment
 *   no lease is handed out;
 * - the iPXE menu changed: clients see it at their next boot, nothing to do now;
 * - any other changed server file has no rule yet: the report names it for the reviewer;
 * - a new client boots when it is powered on; a removed client keeps running until it reboots,
 *   then boots without its own section (the [clients] defaults) and without its reservation.
 */
export interface ImpactGroup {
    /** Why these clients are affected, in plain words. */
    reason: string;
    hostnames: string[];
}

export interface ClientImpact {
    mustReboot: ImpactGroup[];
    nextDhcp: ImpactGroup[];
    newClients: string[];
    removedClients: string[];
    /** Shown at the next boot, nothing to do now (the iPXE menu). */
    nextBoot: ImpactGroup[];
    /** Changed files no rule here covers yet ("owner: path"): what they do to running clients is for the reviewer. */
    noRule: string[];
    /** Clients this change leaves running untouched. */
    unaffected: number;
    /** Clients known to the report (after the change, plus removed ones). */
    total: number;
}

/**
 * Node fields whose change needs no reboot: the IP is a DHCP reservation (next exchange), the role
 * is inventory only. Everything else (image, MAC, host name, kernel parameters, menu timeout, any
 * ltsp.conf key) is in the client's [MAC] section or its image, read at boot.
 */
const NO_REBOOT_FIELDS = new Set(["IP", "role"]);

function nodesOf(props: Props | undefined): Array<{ mac: string; hostname: string; image: string }> {
    const nodes = props?.nodes;
    return Array.isArray(nodes)
        ? (nodes as Array<{ mac: string; hostname: string; image: string }>).filter((n) => n && typeof n.mac === "string")
        : [];
}

function fieldsText(fields: FieldChange[]): string {
    return fields.map((f) => `${f.field} ${f.before} → ${f.after}`).join("; ");
}

export function clientImpact(changes: readonly ResourceChange[]): ClientImpact {
    // Every client known after the change, by MAC: from the NodeAssignments, else from the servers' node lists.
    const clients = new Map<string, string>();
    const removed = new Map<string, string>();
    for (const c of ofKind(changes, "NodeAssignment")) {
        if (c.op === "delete" && c.before) removed.set(nodeView(c.name, c.before).mac, nodeView(c.name, c.before).hostname);
        else if (c.after) clients.set(nodeView(c.name, c.after).mac, nodeView(c.name, c.after).hostname);
    }
    for (const c of [...ofKind(changes, "LtspServer"), ...ofKind(changes, "DhcpScope")]) {
        for (const n of nodesOf(c.op === "delete" ? undefined : c.after)) if (!clients.has(n.mac)) clients.set(n.mac, n.hostname);
    }
    for (const mac of clients.keys()) removed.delete(mac);

    const reboot = new Map<string, Set<string>>();
    const dhcp = new Map<string, Set<string>>();
    const nextBoot = new Map<string, Set<string>>();
    const noRule: string[] = [];
    const add = (groups: Map<string, Set<string>>, reason: string, macs: Iterable<string>) => {
        const set = groups.get(reason) ?? new Set<string>();
        for (const mac of macs) if (clients.has(mac)) set.add(mac);
        if (set.size) groups.set(reason, set);
    };
    const newClients: string[] = [];
    /** Clients already listed for their own settings: their [MAC] section's diff says nothing new. */
    const ownChange = new Set<string>();

    const appServerName = appServerNames(changes);
    for (const c of ofKind(changes, "NodeAssignment")) {
        if (c.op === "create" && c.after) {
            newClients.push(nodeView(c.name, c.after).mac);
            continue;
        }
        if ((c.op !== "update" && c.op !== "replace") || !c.before || !c.after) continue;
        const from: NodeView = nodeView(c.name, c.before);
        const to: NodeView = nodeView(c.name, c.after);
        const fields = fieldChanges(from, to, appServerName);
        const needsReboot = fields.filter((f) => !NO_REBOOT_FIELDS.has(f.field));
        if (needsReboot.length) {
            add(reboot, `its own settings changed (${fieldsText(needsReboot)})`, [to.mac]);
            ownChange.add(to.mac);
        }
        const ip = fields.find((f) => f.field === "IP");
        if (ip) add(dhcp, `its reservation changed (IP ${ip.before} → ${ip.after})`, [to.mac]);
    }
    const isNew = new Set(newClients);

    // Images: rebuilt, rolled back or replaced -> their clients reboot.
    for (const c of ofKind(changes, "ChrootImage")) {
        if (c.op !== "update" && c.op !== "replace") continue;
        const name = String(c.after?.name ?? c.name);
        const rebuilt = c.before?.buildHash !== c.after?.buildHash;
        const rolledBack = c.before?.rollback !== c.after?.rollback;
        if (!rebuilt && !rolledBack && c.op !== "replace") continue;
        const why =
            c.op === "replace"
                ? "replaced"
                : rebuilt
                  ? "rebuilt"
                  : c.after?.rollback
                    ? "rolled back to its previous build"
                    : "back to its newest build";
        const users = allNodes(changes)
            .filter((n) => n.image === name)
            .map((n) => n.mac);
        add(
            reboot,
            `image ${name} ${why}`,
            users.filter((m) => !isNew.has(m)),
        );
    }

    // Servers: ltsp.conf sections, the DHCP part of dnsmasq, a replacement.
    for (const c of ofKind(changes, "LtspServer")) {
        if (c.op !== "update" && c.op !== "replace") continue;
        const served = nodesOf(c.after)
            .map((n) => n.mac)
            .filter((m) => !isNew.has(m));
        if (c.op === "replace") {
            add(reboot, `LTSP server ${c.name} replaced (${c.replaceReasons.join(", ") || "another host"})`, served);
            continue;
        }
        const before = filesOf(c.before);
        const after = filesOf(c.after);
        for (const path of Object.keys(after)) {
            if (before[path] === undefined || before[path] === after[path]) continue;
            if (path.endsWith("/ltsp.conf")) {
                for (const section of changedSections(before[path], after[path])) {
                    if (section === "clients" || section === "common") add(reboot, `ltsp.conf [${section}] changed on ${c.name}`, served);
                    else if (NORMAL_MAC.test(section) && !ownChange.has(section))
                        add(
                            reboot,
                            `its ltsp.conf section changed`,
                            [section].filter((m) => !isNew.has(m)),
                        );
                }
            } else if (path.includes("dnsmasq")) {
                add(dhcp, `${c.name}: ${path} changed`, served);
            } else if (path.endsWith(".ipxe")) {
                add(nextBoot, `${c.name}: the iPXE menu ${path} changed`, served);
            } else if (!path.startsWith("/etc/apt/")) {
                // apt settings touch only the server; anything else (nbd, http, ...) has no rule yet.
                noRule.push(`${c.name}: ${path}`);
            }
        }
    }
    for (const c of ofKind(changes, "DhcpScope")) {
        if (c.op === "same" || c.op === "create") continue;
        const served = nodesOf(c.op === "delete" ? c.before : c.after)
            .map((n) => n.mac)
            .filter((m) => !isNew.has(m));
        if (c.op === "update" && reservationsOnly(c.before, c.after)) {
            // Only reservations changed: new and removed clients are listed as such; a changed
            // reservation is listed with its node. Nobody else's lease changes.
            continue;
        }
        const scope = `DHCP scope ${String((c.after ?? c.before)?.name ?? c.name)} (${String((c.after ?? c.before)?.kind ?? "")})`;
        const why =
            c.op === "delete"
                ? "removed: no leases from it any more"
                : c.op === "replace"
                  ? "replaced: deleted before the new one starts"
                  : `changed (${settingsChanged(c.before, c.after).join(", ")})`;
        add(dhcp, `${scope} ${why}`, served.length ? served : clients.keys());
    }

    const named = (macs: Iterable<string>) => [...macs].map((m) => clients.get(m) ?? m).sort(natural);
    const groups = (map: Map<string, Set<string>>) =>
        [...map]
            .map(([reason, macs]) => ({ reason, hostnames: named(macs) }))
            .sort((a, b) => b.hostnames.length - a.hostnames.length || a.reason.localeCompare(b.reason));
    const touched = new Set([...[...reboot.values(), ...dhcp.values(), ...nextBoot.values()].flatMap((s) => [...s]), ...newClients]);
    return {
        mustReboot: groups(reboot),
        nextDhcp: groups(dhcp),
        nextBoot: groups(nextBoot),
        noRule,
        newClients: named(newClients),
        removedClients: [...removed.values()].sort(natural),
        unaffected: [...clients.keys()].filter((m) => !touched.has(m)).length,
        total: clients.size + removed.size,
    };
}

/** The top-level settings of a scope that differ, reservations and rendered files left out. */
function settingsChanged(before: Props | undefined, after: Props | undefined): string[] {
    const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].filter(
        (k) => !["nodes", "rendered", "managedBy"].includes(k),
    );
    return keys.filter((k) => !isDeepStrictEqual(before?.[k], after?.[k])).sort();
}

/** Whether two scope states differ only in their nodes (reservations) and what is rendered from them. */
function reservationsOnly(before: Props | undefined, after: Props | undefined): boolean {
    if (!before || !after) return false;
    return settingsChanged(before, after).length === 0;
}

function natural(a: string, b: string): number {
    return a.localeCompare(b, "en", { numeric: true });
}

/** The clients after the change with their image: NodeAssignments first, then the servers' lists. */
function allNodes(changes: readonly ResourceChange[]): Array<{ mac: string; image: string }> {
    const byMac = new Map<string, { mac: string; image: string }>();
    for (const c of ofKind(changes, "NodeAssignment")) {
        if (c.op !== "delete" && c.after) byMac.set(String(c.after.mac), { mac: String(c.after.mac), image: String(c.after.image) });
    }
    for (const c of ofKind(changes, "LtspServer")) {
        for (const n of nodesOf(c.op === "delete" ? undefined : c.after)) if (!byMac.has(n.mac)) byMac.set(n.mac, n);
    }
    return [...byMac.values()];
}
