import { normalizeMac } from "../core/node";

/**
 * A site's clients come from two places, the stack's `netboot:nodes` and its inventory file;
 * each keeps where it came from, so that a message about it names that place (the config key or
 * the file's line), and two clients that claim one MAC, host name or address are one line naming
 * both: before any NodeAssignment is made (two of one host name would be a duplicate resource,
 * which Pulumi reports as a stack trace). Pure.
 */

/** As config gives them: the resources check each value; here only text is compared. */
export interface SiteNodeFields {
    hostname?: unknown;
    mac?: unknown;
    ip?: unknown;
    [field: string]: unknown;
}

export interface PlacedNode<T> {
    node: T;
    /** `netboot:nodes[2] (pc3)` or `inventory/lab.csv line 7 (pc3)`. */
    place: string;
}

/** The inline nodes, then the inventory's rows (`lines`: each row's line in `file`). */
export function placeNodes<I extends SiteNodeFields, R extends SiteNodeFields>(
    inline: readonly I[],
    inventory: { file: string; nodes: readonly R[]; lines: readonly number[] } | undefined,
): PlacedNode<I | R>[] {
    return [
        ...inline.map((node, i) => ({ node, place: `netboot:nodes[${i}] (${String(node.hostname)})` })),
        ...(inventory?.nodes ?? []).map((node, i) => ({ node, place: `${inventory?.file} line ${inventory?.lines[i]} (${String(node.hostname)})` })),
    ];
}

/** What two clients may not share, as it is compared: a MAC in any notation, a host name in any case. */
const IDENTITIES = {
    mac: (node: SiteNodeFields) => (typeof node.mac === "string" ? (normalizeMac(node.mac) ?? node.mac.toLowerCase()) : undefined),
    hostname: (node: SiteNodeFields) => (typeof node.hostname === "string" ? node.hostname.toLowerCase() : undefined),
    ip: (node: SiteNodeFields) => (typeof node.ip === "string" ? node.ip : undefined),
} as const;

/** One line per client that repeats another's MAC, host name or address, naming both places. */
export function nodeConflicts(placed: readonly PlacedNode<SiteNodeFields>[]): string[] {
    const conflicts: string[] = [];
    for (const [field, identity] of Object.entries(IDENTITIES)) {
        const first = new Map<string, string>();
        for (const { node, place } of placed) {
            const value = identity(node);
            if (value === undefined) continue;
            const other = first.get(value);
            if (other === undefined) first.set(value, place);
            else conflicts.push(`${place}: ${field} "${value}" is also the ${field} of ${other}`);
        }
    }
    return conflicts;
}
