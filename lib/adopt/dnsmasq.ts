import { basename } from "node:path";
import { inSubnet, parseSubnet, type Subnet } from "../core/fields";
import { BIOS_BOOT_FILE, IPXE_SCRIPT, TFTP_ROOT, UEFI_BOOT_FILE } from "../core/hostPaths";
import { normalizeMac } from "../core/node";
import type { AdoptedNode, NotExpressed } from "./ltspConf";

/**
 * Reading the dnsmasq configuration `ltsp dnsmasq` writes (and what administrators add to it)
 * back into LtspServer `lan` and `dhcp`. The stack renders the same boot logic from its own
 * template (templates/dnsmasq-ltsp.conf.hbs, its own tag names); everything else in the file is
 * listed as not expressed, with what the first `up` will do about it.
 */

/** An IPv4 address of the server, as `ip -o -4 addr show` lists it. */
export interface InterfaceAddress {
    interface: string;
    /** address/prefix, e.g. 10.213.1.1/24 */
    cidr: string;
}

/** `ip -o -4 addr show` output -> the addresses. */
export function parseIpAddr(text: string): InterfaceAddress[] {
    const out: InterfaceAddress[] = [];
    for (const line of text.split("\n")) {
        const m = /^\d+:\s+(\S+?)(@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+\/\d+)/.exec(line.trim());
        if (m) out.push({ interface: m[1], cidr: m[3] });
    }
    return out;
}

/**
 * The lines of LTSP 23's template (/usr/share/ltsp/server/dnsmasq/ltsp-dnsmasq.conf) that make
 * its boot logic: firmware arch matches, the iPXE feature test on option 175, the PXE services
 * and boot files. The stack's template does the same with its own tags, so these need nothing.
 */
const LTSP_BOOT_LOGIC = new Set([
    "dhcp-match=set:X86PC,option:client-arch,0",
    "dhcp-match=set:X86-64_EFI,option:client-arch,7",
    "dhcp-match=set:X86-64_EFI,option:client-arch,9",
    "dhcp-match=set:ipxe-http,175,19",
    "dhcp-match=set:ipxe-menu,175,39",
    "dhcp-match=set:ipxe-pxe,175,33",
    "dhcp-match=set:ipxe-bzimage,175,24",
    "dhcp-match=set:ipxe-efi,175,36",
    "tag-if=set:ipxe,tag:ipxe-http,tag:ipxe-menu,tag:ipxe-pxe,tag:ipxe-bzimage",
    "tag-if=set:ipxe,tag:ipxe-http,tag:ipxe-menu,tag:ipxe-efi",
    `pxe-service=tag:proxy,tag:!ipxe,X86PC,"${basename(BIOS_BOOT_FILE)}",${BIOS_BOOT_FILE}`,
    `pxe-service=tag:proxy,tag:!ipxe,X86-64_EFI,"${basename(UEFI_BOOT_FILE)}",${UEFI_BOOT_FILE}`,
    `pxe-service=tag:proxy,tag:ipxe,X86PC,"${basename(IPXE_SCRIPT)}",${IPXE_SCRIPT}`,
    `pxe-service=tag:proxy,tag:ipxe,X86-64_EFI,"${basename(IPXE_SCRIPT)}",${IPXE_SCRIPT}`,
    `dhcp-boot=tag:!ipxe,tag:X86PC,${BIOS_BOOT_FILE}`,
    `dhcp-boot=tag:!ipxe,tag:X86-64_EFI,${UEFI_BOOT_FILE}`,
    `dhcp-boot=tag:ipxe,${IPXE_SCRIPT}`,
]);

/**
 * The stack's own boot logic (templates/_dnsmasq-dhcp.hbs with tag "ltsp"), so that a config the
 * stack wrote adopts to the same inputs.
 */
const STACK_BOOT_LOGIC = /^(dhcp-match=set:ltsp-|tag-if=set:ltsp-ipxe,|pxe-service=tag:ltsp-|dhcp-boot=tag:ltsp-)/;

/** The Raspberry Pi lines of the same template. */
const LTSP_RPI = /^(dhcp-mac=set:rpi,|pxe-service=tag:rpi,)/;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface AdoptedDhcp {
    lan?: { interface: string; address: string };
    dhcp?: {
        mode: "full" | "proxy" | "none";
        rangeStart?: string;
        rangeEnd?: string;
        leaseTime?: string;
        router?: string;
        dnsServers?: string[];
        domain?: string;
    };
    /** MAC -> reserved address (dhcp-host), for the nodes. */
    reservations: Record<string, string>;
    notExpressed: NotExpressed[];
}

interface Range {
    line: number;
    text: string;
    subnet: Subnet;
    interface: string;
    proxy: boolean;
    start?: string;
    end?: string;
    lease?: string;
}

/**
 * dnsmasq config -> lan and dhcp. The LAN is `lanInterface` when given; else the range on a
 * subnet of the server's that is not the one it is reached over (`sshAddress`), else the first.
 */
export function adoptDnsmasq(
    text: string,
    addresses: readonly InterfaceAddress[],
    opts: { sshAddress?: string; lanInterface?: string; file?: string } = {},
): AdoptedDhcp {
    const file = opts.file ?? "/etc/dnsmasq.d/ltsp-dnsmasq.conf";
    const notExpressed: NotExpressed[] = [];
    /** line 0: about the file as a whole (a setting it lacks). */
    const note = (line: number, text: string, why: string) => notExpressed.push({ where: line ? `${file} line ${line}` : file, text, why });
    const subnets = addresses.map((a) => ({ ...a, subnet: parseSubnet(a.cidr)! })).filter((a) => a.subnet);
    const subnetOf = (address: string) => subnets.find((s) => inSubnet(address, s.subnet));

    const ranges: Range[] = [];
    const options: Array<{ line: number; text: string; option: string; values: string[] }> = [];
    const reservations: Record<string, string> = {};
    const seen = new Set<string>();
    const interfaces: string[] = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const line = i + 1;
        const text = lines[i].trim();
        if (!text || text.startsWith("#")) continue;
        seen.add(text.split("=")[0]);
        if (["port=0", "enable-tftp", `tftp-root=${TFTP_ROOT}`, "bind-interfaces"].includes(text)) continue;
        if (LTSP_BOOT_LOGIC.has(text) || STACK_BOOT_LOGIC.test(text)) continue;
        if (LTSP_RPI.test(text)) {
            note(line, text, "Raspberry Pi boot: the stack's dnsmasq config has no Raspberry Pi entries (the first up drops it)");
            continue;
        }
        const [key, value = ""] = text.split(/=(.*)/s);
        if (key === "interface") {
            interfaces.push(value);
            continue;
        }
        if (key === "dhcp-range") {
            const items = value.split(",").filter((v) => !/^(set|tag):/.test(v));
            const subnet = subnetOf(items[0]);
            if (!subnet) {
                note(line, text, "a range on no subnet of this server's addresses");
                continue;
            }
            if (items[1] === "proxy") ranges.push({ line, text, subnet: subnet.subnet, interface: subnet.interface, proxy: true });
            else if (IPV4.test(items[1] ?? "")) {
                const rest = items.slice(2).filter((v) => !IPV4.test(v));
                ranges.push({
                    line,
                    text,
                    subnet: subnet.subnet,
                    interface: subnet.interface,
                    proxy: false,
                    start: items[0],
                    end: items[1],
                    lease: rest[0],
                });
            } else note(line, text, "a dhcp-range form the stack does not write");
            continue;
        }
        if (key === "dhcp-option") {
            const items = value.split(",");
            // tag:ltsp is the stack's tag for its whole LAN.
            const tags = items.filter((v) => /^tag:/.test(v) && v !== "tag:ltsp");
            const [option, ...values] = items.filter((v) => !/^tag:/.test(v));
            if (tags.length) {
                note(line, text, "a tagged option: the stack sets options for the whole LAN");
                continue;
            }
            options.push({ line, text, option, values });
            continue;
        }
        if (key === "dhcp-host") {
            const items = value.split(",");
            const mac = normalizeMac(items[0]);
            const ip = items.find((v) => IPV4.test(v));
            if (mac && ip && items.length <= 3) reservations[mac] = ip;
            else note(line, text, "a dhcp-host form the stack does not write (MAC,IP[,NAME])");
            continue;
        }
        note(line, text, "a dnsmasq setting the stack does not write (the first up drops it; keep it in a file of its own in /etc/dnsmasq.d)");
    }
    if (!seen.has("port")) note(0, "(no port=0)", "this dnsmasq also serves DNS; the stack's sets port=0 (DHCP and TFTP only)");
    if (!seen.has("enable-tftp")) note(0, "(no enable-tftp)", "this dnsmasq serves no TFTP; the stack's always does");
    if (!seen.has("interface")) {
        note(
            0,
            "(no interface=)",
            "this dnsmasq answers on every interface; the stack's answers on lan.interface only (interface=, bind-interfaces)",
        );
    }

    // The LAN: as asked, else the one interface dnsmasq is bound to, else any.
    const wanted = opts.lanInterface ?? (interfaces.length === 1 ? interfaces[0] : undefined);
    const onLan = (r: Range) => (wanted ? r.interface === wanted : true);
    const candidates = ranges.filter(onLan);
    const notSsh = candidates.filter((r) => !(opts.sshAddress && inSubnet(opts.sshAddress, r.subnet)));
    const lanRange = notSsh[0] ?? candidates[0];
    const lanSubnet = lanRange?.subnet ?? (wanted ? subnets.find((s) => s.interface === wanted)?.subnet : undefined);
    const lanInterface = lanRange?.interface ?? wanted;
    for (const r of ranges) {
        if (r !== lanRange) note(r.line, r.text, `a second range (${r.interface}): the stack serves one LAN, ${lanInterface ?? "none found"}`);
    }
    const result: AdoptedDhcp = { reservations, notExpressed };
    if (lanSubnet && lanInterface) result.lan = { interface: lanInterface, address: `${lanSubnet.address}/${lanSubnet.prefix}` };
    if (!lanRange) {
        result.dhcp = { mode: "none" };
    } else if (lanRange.proxy) {
        result.dhcp = { mode: "proxy" };
    } else {
        // dnsmasq's own default lease is one hour (man dnsmasq, --dhcp-range); the stack's default is 12h.
        result.dhcp = { mode: "full", rangeStart: lanRange.start, rangeEnd: lanRange.end, leaseTime: lanRange.lease ?? "1h" };
    }
    for (const o of options) {
        const name = o.option.replace(/^option:/, "");
        const full = result.dhcp.mode === "full";
        if (!full) {
            note(
                o.line,
                o.text,
                `dhcp.mode is "${result.dhcp.mode}": the stack sends no DHCP options (proxyDHCP clients get none anyway; DNS_SERVER in ltsp.conf reaches them)`,
            );
        } else if (name === "dns-server" || name === "6") {
            // 0.0.0.0 is dnsmasq's "this machine": on the LAN that is the server's LAN address.
            result.dhcp.dnsServers = o.values.map((v) => (v === "0.0.0.0" ? lanSubnet!.address : v));
        } else if ((name === "router" || name === "3") && o.values.length === 1) {
            result.dhcp.router = o.values[0];
        } else if ((name === "domain-name" || name === "15") && o.values.length === 1) {
            result.dhcp.domain = o.values[0];
        } else {
            note(o.line, o.text, "a DHCP option the stack does not set (router, dns-server and domain-name only)");
        }
    }
    return result;
}

/** Gives each node its reserved address; reservations of no node are listed. */
export function applyReservations(nodes: AdoptedNode[], dhcp: AdoptedDhcp, file = "/etc/dnsmasq.d/ltsp-dnsmasq.conf"): NotExpressed[] {
    const left: NotExpressed[] = [];
    for (const [mac, ip] of Object.entries(dhcp.reservations)) {
        const node = nodes.find((n) => n.mac === mac);
        if (node) node.ip = ip;
        else
            left.push({
                where: file,
                text: `dhcp-host=${mac},${ip}`,
                why: "a reservation for a MAC with no [MAC] section in ltsp.conf (no node to carry it)",
            });
    }
    return left;
}
