import { ipv4ToNumber, parseSubnet } from "../core/fields";

/**
 * What one resource of a program serves on a LAN, so that resources that would fight are caught
 * at preview, naming both: two DHCP servers handing out addresses on one subnet, two scopes of one
 * name on one host. (proxyDHCP answers only with boot information: it may sit beside a full server.)
 */
export interface DhcpClaim {
    /** The resource, as messages name it: `LtspServer ltsp-server`, `DhcpScope dhcp-lan`. */
    owner: string;
    host: string;
    /** The subnet it serves, as CIDR. */
    subnet: string;
    mode: "full" | "proxy" | "none";
    range?: [string, string];
    /** A name that must be unique per host (a scope's name), if any. */
    scopeName?: string;
}

function overlaps(a: [string, string], b: [string, string]): boolean {
    const [a0, a1, b0, b1] = [...a, ...b].map(ipv4ToNumber);
    return a0 <= b1 && b0 <= a1;
}

/** The conflicts `claim` has with those already made; empty when it fits. */
export function dhcpConflicts(claims: readonly DhcpClaim[], claim: DhcpClaim): string[] {
    const problems: string[] = [];
    const net = parseSubnet(claim.subnet);
    for (const other of claims) {
        if (other.owner === claim.owner) continue;
        const otherNet = parseSubnet(other.subnet);
        const sameLan = net && otherNet && net.network === otherNet.network && net.prefix === otherNet.prefix;
        if (sameLan && claim.mode === "full" && other.mode === "full") {
            const ranges =
                claim.range && other.range && overlaps(claim.range, other.range)
                    ? `, with overlapping ranges ${claim.range.join("-")} and ${other.range.join("-")}`
                    : "";
            problems.push(
                `${claim.owner} and ${other.owner} would both hand out addresses on ${net.network}/${net.prefix}${ranges}: ` +
                    `one DHCP server per LAN (make one of them proxy, or "none" and let the other point clients at it)`,
            );
        }
        if (claim.scopeName && claim.scopeName === other.scopeName && claim.host === other.host) {
            problems.push(`${claim.owner} and ${other.owner} are both scope "${claim.scopeName}" on ${claim.host}`);
        }
    }
    return problems;
}

const claims: DhcpClaim[] = [];

/** Records a claim for this program run; throws (failing the preview) when it conflicts with one already made. */
export function claimDhcp(claim: DhcpClaim): void {
    const problems = dhcpConflicts(claims, claim);
    if (problems.length) throw new Error(problems.join("\n"));
    claims.push(claim);
}
