import type { Subnet } from "../core/fields";

/** dnsmasq's own check of a candidate config (its path as $1), run before it replaces anything. */
export const DNSMASQ_CHECK = 'dnsmasq --test --conf-file="$1"';

/**
 * The one dnsmasq DHCP rendering (templates/_dnsmasq-dhcp.hbs), for LtspServer `dhcp` and
 * DhcpScope kind `dnsmasq` alike: range or proxyDHCP, options, a reservation for every node with
 * an `ip`, and the iPXE split. Every tag starts with `tag`, so two configs share one dnsmasq.
 */
export interface DnsmasqDhcp {
    tag: string;
    proxy: boolean;
    subnet: Subnet;
    rangeStart?: string;
    rangeEnd?: string;
    /** dnsmasq's lease time: seconds, or with a unit (12h). */
    lease: string;
    router?: string;
    dnsServers: readonly string[];
    domain?: string;
    rootPath?: string;
    reservations: ReadonlyArray<{ mac: string; ip: string; hostname: string }>;
    boot: {
        biosBootFile: string;
        uefiBootFile: string;
        ipxeScript: string;
        /** The TFTP server; absent: this dnsmasq's own TFTP. */
        nextServer?: string;
        sendBootOptions: boolean;
    };
}

/** The partial's context (a reservation only in full DHCP: proxyDHCP hands out no addresses). */
export function dnsmasqDhcpContext(d: DnsmasqDhcp) {
    return {
        tag: d.tag,
        proxy: d.proxy,
        network: d.subnet.network,
        netmask: d.subnet.netmask,
        rangeStart: d.rangeStart ?? null,
        rangeEnd: d.rangeEnd ?? null,
        lease: d.lease,
        router: d.router ?? null,
        dnsServers: d.dnsServers.length ? d.dnsServers.join(",") : null,
        domain: d.domain ?? null,
        rootPath: d.rootPath ?? null,
        reservations: d.proxy ? [] : d.reservations,
        biosBootFile: d.boot.biosBootFile,
        uefiBootFile: d.boot.uefiBootFile,
        ipxeScript: d.boot.ipxeScript,
        nextServer: d.boot.nextServer ?? null,
        sendBootOptions: d.boot.sendBootOptions && d.boot.nextServer !== undefined,
    };
}
