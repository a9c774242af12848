import { stringify } from "yaml";
import { imageName } from "../core/node";
import { LTSP_CONF } from "../ltsp/ltspConf";
import { adoptDnsmasq, applyReservations, parseIpAddr } from "./dnsmasq";
import { adoptLtspConf, type NotExpressed } from "./ltspConf";

/** What `scripts/adopt` read from the server. */
export interface ServerFacts {
    /** /etc/ltsp/ltsp.conf, undefined when missing. */
    ltspConf?: string;
    /** /etc/dnsmasq.d/ltsp-dnsmasq.conf, undefined when missing. */
    dnsmasq?: string;
    /** `ip -o -4 addr show` */
    ipAddr: string;
    /** Names of /srv/ltsp/images/NAME.img */
    images: string[];
    /** apt's Acquire::http::Proxy, "" when none. */
    aptProxy: string;
}

/** How the stack reaches the server (the lab site's `netboot:server`). */
export interface AdoptConnection {
    host: string;
    port?: number;
    user?: string;
    sudo?: boolean;
    privateKeyFile?: string;
    knownHostsFile?: string;
    hostKeyFingerprint?: string;
}

export interface Adoption {
    /** The lab site's config keys, without the `netboot:` prefix. */
    config: Record<string, unknown>;
    notExpressed: NotExpressed[];
}

/**
 * A lab-site stack config that describes a running server: its ltsp.conf sections and clients,
 * its dnsmasq LAN and DHCP mode, the images it serves (as `servedImages`: built outside the
 * stack, served by it) and its apt proxy.
 */
export function adoptServer(facts: ServerFacts, connection: AdoptConnection, opts: { lanInterface?: string } = {}): Adoption {
    const notExpressed: NotExpressed[] = [];
    const images = facts.images.filter((name) => {
        if (imageName.safeParse(name).success) return true;
        notExpressed.push({
            where: `/srv/ltsp/images/${name}.img`,
            text: name,
            why: "not an image name the stack accepts (lower-case letters, digits, _ and -)",
        });
        return false;
    });
    const ltsp = adoptLtspConf(facts.ltspConf ?? "", images);
    if (facts.ltspConf === undefined)
        notExpressed.push({ where: LTSP_CONF, text: "(missing)", why: "the stack writes one; the first up creates it" });
    notExpressed.push(...ltsp.notExpressed);
    const dhcp = adoptDnsmasq(facts.dnsmasq ?? "", parseIpAddr(facts.ipAddr), { sshAddress: connection.host, lanInterface: opts.lanInterface });
    if (facts.dnsmasq === undefined) {
        notExpressed.push({
            where: "/etc/dnsmasq.d/ltsp-dnsmasq.conf",
            text: "(missing)",
            why: "the stack writes one (TFTP only: dhcp.mode none); the first up creates it",
        });
    } else notExpressed.push(...dhcp.notExpressed);
    notExpressed.push(...applyReservations(ltsp.nodes, dhcp));
    if (!dhcp.lan) throw new Error("cannot tell the LAN: no dhcp-range on a subnet of the server; name it with --lan-interface");

    const config: Record<string, unknown> = {
        site: "lab",
        server: Object.fromEntries(Object.entries(connection).filter(([, v]) => v !== undefined)),
        ...(facts.aptProxy ? { aptProxy: facts.aptProxy.replace(/\/$/, "") } : {}),
        lan: dhcp.lan,
        dhcp: dhcp.dhcp,
        ...(Object.keys(ltsp.ltspConf).length ? { ltspConf: ltsp.ltspConf } : {}),
        ...(images.length ? { servedImages: images } : {}),
        ...(ltsp.nodes.length ? { nodes: ltsp.nodes } : {}),
    };
    return { config, notExpressed };
}

/** Pulumi.<stack>.yaml: the config under `netboot:` keys, what could not be expressed as comments above it. */
export function stackConfigYaml(adoption: Adoption, source: string): string {
    const header = [
        `# Adopted from ${source} by scripts/adopt. Review before the first \`pulumi up\`.`,
        ...(adoption.notExpressed.length
            ? [
                  `# Not expressed by this config (${adoption.notExpressed.length}); the first up changes or drops these:`,
                  ...adoption.notExpressed.map((n) => `#   ${n.where}: ${n.text}\n#     ${n.why}`),
              ]
            : ["# Everything the server's files say is expressed here."]),
    ];
    const config = Object.fromEntries(Object.entries(adoption.config).map(([k, v]) => [`netboot:${k}`, v]));
    return `${header.join("\n")}\n${stringify({ config }, { lineWidth: 0 })}`;
}
