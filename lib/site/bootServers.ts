import { parseSubnet } from "../core/fields";

/**
 * Redundant boot servers: two or more LtspServers on one LAN serving the same images and nodes, so
 * that a client boots while any one of them runs (seed 000: "as long as one persists the
 * architecture will survive").
 *
 * How they share the LAN: **proxyDHCP**. Every LTSP server runs dnsmasq as proxyDHCP (boot
 * information only: its own address as the boot server, the boot file); addresses, and options
 * such as the root path, come from the site's one DHCP server (a Windows DHCP scope, Kea, the
 * router). PXE ROMs and iPXE take the first proxy offer they get, and our menu then fetches kernel,
 * initrds and the NBD root from the server that made it (`${proxydhcp/dhcp-server}`), so one boot
 * never mixes servers. A stopped LTSP server only withdraws its offer.
 *
 * Why not the other two ways:
 * - one authority (one LTSP server hands out addresses, the others TFTP only): when it stops, no
 *   client gets an address, whichever boot server is up;
 * - split ranges (each LTSP server hands out its own part of the subnet): survives either server,
 *   but makes two lease databases on one LAN that must agree on every reservation, and a client
 *   asking to keep an address from the other part is NAKed by an authoritative server (or ignored).
 *   `lib/site/dhcpClaims` rejects two address-handing servers on one subnet for that reason.
 * What remains a single point is the site's DHCP server, which has failover of its own (Windows
 * DHCP failover, Kea high availability); it is not an LTSP server's job.
 */

/** What the cross-check needs of each server, with the config path its messages name. */
export interface BootServerClaim {
    /** The server's name in the site (its resource name). */
    name: string;
    /** Where it is reached over SSH (host, port). */
    host: string;
    port: number;
    /** Its address on the clients' LAN with prefix, e.g. 10.213.9.1/24. */
    lanAddress: string;
    /** Its DHCP mode (LtspServer `dhcp.mode`). */
    dhcpMode: "full" | "proxy" | "none";
}

export interface BootServerProblem {
    /** The config path of the offending field, e.g. ["servers", 1, "dhcp", "mode"]. */
    path: (string | number)[];
    input: unknown;
    message: string;
}

/**
 * Problems with a set of redundant boot servers, each naming the field of the later server that
 * collides with an earlier one: fewer than two servers, a name or host used twice, servers on
 * different LANs or on one address, a server that would hand out addresses or answer no DHCP.
 */
export function checkBootServers(servers: readonly BootServerClaim[]): BootServerProblem[] {
    const problems: BootServerProblem[] = [];
    if (servers.length < 2) {
        problems.push({
            path: ["servers"],
            input: servers.length,
            message: `has ${servers.length} server(s): redundant boot servers are at least two (a site with one server is the "lab" site)`,
        });
    }
    const first = servers[0] ? parseSubnet(servers[0].lanAddress) : undefined;
    servers.forEach((server, i) => {
        const at = (...rest: (string | number)[]) => ["servers", i, ...rest];
        const earlier = servers.slice(0, i);
        const sameName = earlier.findIndex((o) => o.name === server.name);
        if (sameName >= 0) problems.push({ path: at("name"), input: server.name, message: `is also the name of servers[${sameName}]` });
        const sameHost = earlier.findIndex((o) => o.host === server.host && o.port === server.port);
        if (sameHost >= 0) {
            problems.push({
                path: at("host"),
                input: server.host,
                message: `is also servers[${sameHost}] (${servers[sameHost].name}): redundancy needs two machines`,
            });
        }
        const net = parseSubnet(server.lanAddress);
        if (i > 0 && net && first && (net.network !== first.network || net.prefix !== first.prefix)) {
            problems.push({
                path: at("lan", "address"),
                input: server.lanAddress,
                message: `is not on the LAN of servers[0] (${servers[0].name}, ${first.network}/${first.prefix}): redundant servers serve one LAN`,
            });
        }
        const sameAddress = earlier.findIndex((o) => parseSubnet(o.lanAddress)?.address === net?.address);
        if (net && sameAddress >= 0) {
            problems.push({
                path: at("lan", "address"),
                input: server.lanAddress,
                message: `is also the address of servers[${sameAddress}] (${servers[sameAddress].name})`,
            });
        }
        if (server.dhcpMode !== "proxy") {
            const other = earlier.find((o) => o.dhcpMode === "full");
            problems.push({
                path: at("dhcp", "mode"),
                input: server.dhcpMode,
                message:
                    server.dhcpMode === "full"
                        ? `hands out addresses${other ? `, as servers[${servers.indexOf(other)}] (${other.name}) already does on this LAN` : ""}: ` +
                          `redundant boot servers answer as proxyDHCP beside the site's one DHCP server ` +
                          `(an LTSP server that hands out addresses stops every boot when it stops)`
                        : `answers no DHCP: with it, clients are pointed at the other servers only (redundant boot servers answer as proxyDHCP)`,
            });
        }
    });
    return problems;
}
