import { ipv4ToNumber, parseSubnet } from "../core/fields";
import { APT_PROXY_CONF, BIOS_BOOT_FILE, IPXE_SCRIPT, TFTP_ROOT, UEFI_BOOT_FILE } from "../core/hostPaths";
import { sha256Hex } from "../core/sha256";
import { DNSMASQ_CHECK, dnsmasqDhcpContext } from "../dhcp/dnsmasqDhcp";
import { type ManagedFile, planFile, planReleases, planService } from "../engine/managedFiles";
import type { DesiredFile, ManagedFileRecord, Step } from "../engine/steps";
import type { HostObservation } from "../host/observe";
import { renderTemplate } from "../render/templates";
import {
    LIGHTTPD_CONF,
    LTSP_IPXE,
    NBD_SERVER_ALLOW,
    NBD_SERVER_CONF,
    renderBootMenu,
    renderLighttpdConf,
    renderNbdServerAllow,
    renderNbdServerConf,
} from "./bootMenu";
import { LTSP_CONF, type NamedSection, nodeSection, renderLtspConf } from "./ltspConf";
import { type LtspServerSpec, nodeExporterAddress } from "./serverSpec";

// Paths as LTSP 23 and Debian lay them out (the TFTP tree: lib/core/hostPaths.ts).

/** The file `ltsp dnsmasq` writes; we render the same settings into it from a template. */
export const DNSMASQ_CONF = "/etc/dnsmasq.d/ltsp-dnsmasq.conf";
export const NFS_EXPORTS = "/etc/exports.d/ltsp-nfs.exports";
/** Debian's prometheus-node-exporter reads its command line ($ARGS) from here. */
export const NODE_EXPORTER_DEFAULTS = "/etc/default/prometheus-node-exporter";
export const NODE_EXPORTER_SERVICE = "prometheus-node-exporter";
/** What `ltsp ipxe` and `ltsp initrd` produce in TFTP. */
export const IPXE_FILES = [IPXE_SCRIPT, BIOS_BOOT_FILE, UEFI_BOOT_FILE].map((f) => `${TFTP_ROOT}/${f}`);
export const LTSP_IMG = `${TFTP_ROOT}/ltsp/ltsp.img`;

export const BASE_PACKAGES = ["ltsp", "ipxe", "dnsmasq", "squashfs-tools", "openssh-server"];
export const SERVICES = ["dnsmasq"];

/** The iPXE binaries `ltsp ipxe` installs; the menu beside them is ours (LTSP_IPXE). */
const IPXE_BINARIES = IPXE_FILES.filter((f) => f !== LTSP_IPXE);

/** Each service this resource may run, with the managed file that configures it, its package and its config check. */
const SERVICE_CONFIGS = [
    { service: "dnsmasq", config: DNSMASQ_CONF, package: "dnsmasq" },
    { service: "nbd-server", config: NBD_SERVER_CONF, package: "nbd-server" },
    { service: "lighttpd", config: LIGHTTPD_CONF, package: "lighttpd" },
    { service: NODE_EXPORTER_SERVICE, config: NODE_EXPORTER_DEFAULTS, package: "prometheus-node-exporter" },
];

/** Every service a server may run: what observation and refresh look at. */
export const ALL_SERVICES = SERVICE_CONFIGS.map((s) => s.service);

/** The services a server with this spec runs: dnsmasq, nbd-server for NBD roots, lighttpd for HTTP, the node exporter when asked. */
export function serverServices(spec: Pick<LtspServerSpec, "boot" | "monitoring">): string[] {
    return [
        "dnsmasq",
        ...(spec.boot?.rootTransport === "nbd" ? ["nbd-server"] : []),
        ...(spec.boot?.http ? ["lighttpd"] : []),
        ...(spec.monitoring?.nodeExporter ? [NODE_EXPORTER_SERVICE] : []),
    ];
}

export type { DesiredFile, Step };

function desired(path: string, content: string, mode = "0644"): DesiredFile {
    return { path, content, mode, sha256: sha256Hex(content) };
}

export function serverPackages(spec: LtspServerSpec): string[] {
    const services = serverServices(spec);
    const packages = [
        ...BASE_PACKAGES,
        ...(spec.nfs ? ["nfs-kernel-server"] : []),
        ...SERVICE_CONFIGS.filter((s) => services.includes(s.service)).map((s) => s.package),
        ...spec.extraPackages,
    ];
    return [...new Set(packages)];
}

/** [server], [common], [clients], then one [MAC] section per node, in MAC order. */
export function ltspConfSections(spec: LtspServerSpec): NamedSection[] {
    const sections: NamedSection[] = [];
    for (const name of ["server", "common", "clients"] as const) {
        const section = spec.ltspConf[name];
        if (section) sections.push({ name, section });
    }
    const nodes = [...spec.nodes].sort((a, b) => a.mac.localeCompare(b.mac));
    return [...sections, ...nodes.map(nodeSection)];
}

/** Every file this server manages, rendered from templates/. */
export function renderServerFiles(spec: LtspServerSpec, resource: string): DesiredFile[] {
    const files: DesiredFile[] = [];
    if (spec.aptProxy) {
        files.push(desired(APT_PROXY_CONF, renderTemplate("apt-proxy.conf", { path: APT_PROXY_CONF, resource, proxy: spec.aptProxy })));
    }
    files.push(desired(LTSP_CONF, renderLtspConf(resource, ltspConfSections(spec))));
    files.push(desired(DNSMASQ_CONF, renderServerDnsmasq(spec, resource)));
    files.push(desired(LTSP_IPXE, renderBootMenu({ boot: spec.boot, images: spec.images, nodes: spec.nodes, ltspConf: spec.ltspConf }, resource)));
    // The boot services listen where their clients are: the LAN address, to the LAN subnet.
    const subnet = parseSubnet(spec.lan.address)!;
    const lan = { address: subnet.address, network: `${subnet.network}/${subnet.prefix}` };
    if (spec.boot.rootTransport === "nbd") {
        // The allow list before the config that names it: nbd-server admits everyone when its authfile is missing.
        files.push(desired(NBD_SERVER_ALLOW, renderNbdServerAllow(lan, resource)));
        files.push(desired(NBD_SERVER_CONF, renderNbdServerConf(spec.images, lan, resource)));
    }
    if (spec.boot.http) files.push(desired(LIGHTTPD_CONF, renderLighttpdConf(lan, TFTP_ROOT, resource)));
    if (spec.monitoring?.nodeExporter) {
        // Its client is Prometheus, at the address file_sd names (validated: there is one).
        const listen = `${nodeExporterAddress(spec)}:${spec.monitoring.nodeExporterPort}`;
        files.push(
            desired(NODE_EXPORTER_DEFAULTS, renderTemplate("prometheus-node-exporter.default", { path: NODE_EXPORTER_DEFAULTS, resource, listen })),
        );
    }
    return files;
}

/**
 * The server's dnsmasq: TFTP, and DHCP for its LAN through the one dnsmasq DHCP rendering (the
 * same as DhcpScope kind dnsmasq), with a reservation for every node that has an `ip`.
 */
function renderServerDnsmasq(spec: LtspServerSpec, resource: string): string {
    const dhcp = spec.dhcp;
    const subnet = parseSubnet(spec.lan.address)!;
    const ltspBoot = { biosBootFile: BIOS_BOOT_FILE, uefiBootFile: UEFI_BOOT_FILE, ipxeScript: IPXE_SCRIPT, sendBootOptions: false };
    const reservations = [...spec.nodes]
        .filter((n) => n.ip !== undefined)
        .map((n) => ({ mac: n.mac, ip: n.ip!, hostname: n.hostname }))
        .sort((a, b) => ipv4ToNumber(a.ip) - ipv4ToNumber(b.ip));
    const context =
        dhcp.mode === "none"
            ? null
            : dnsmasqDhcpContext({
                  tag: "ltsp",
                  proxy: dhcp.mode === "proxy",
                  subnet,
                  rangeStart: dhcp.rangeStart,
                  rangeEnd: dhcp.rangeEnd,
                  lease: dhcp.leaseTime,
                  router: dhcp.router,
                  dnsServers: dhcp.dnsServers ?? [],
                  domain: dhcp.domain,
                  reservations,
                  boot: ltspBoot,
              });
    return renderTemplate("dnsmasq-ltsp.conf", { path: DNSMASQ_CONF, resource, interface: spec.lan.interface, tftpRoot: TFTP_ROOT, dhcp: context });
}

/** How long an `ltsp ipxe`, `initrd` or `nfs` run may take before its step fails. */
const APPLET_TIMEOUT_MS = 10 * 60_000;

/** `ltsp APPLET` (lib/remote/ltsp-applet.sh) as a step; `touches` are the files it rewrites (saved first, restored on failure). */
export function ltspApplet(applet: "ipxe" | "initrd" | "nfs", touches: readonly string[], why?: string): Step {
    return { kind: "run", what: `ltsp ${applet}`, script: "ltsp-applet", args: [applet], touches: [...touches], timeoutMs: APPLET_TIMEOUT_MS, why };
}

/** A server file with its daemon's check and the services that read it. */
function managedServerFile(file: DesiredFile): ManagedFile {
    if (file.path === DNSMASQ_CONF) return { file, check: DNSMASQ_CHECK, reload: ["dnsmasq"] };
    if (file.path === LIGHTTPD_CONF) return { file, check: 'lighttpd -tt -f "$1"', reload: ["lighttpd"] };
    if (file.path === NBD_SERVER_CONF) return { file, reload: ["nbd-server"] };
    return { file };
}

/** What to look at on the host before planning. */
export function observationFor(files: readonly DesiredFile[], managed: Record<string, ManagedFileRecord>, packages: readonly string[]) {
    return {
        files: [...new Set([...files.map((f) => f.path), ...Object.keys(managed), ...IPXE_FILES, LTSP_IMG, NFS_EXPORTS])],
        services: ALL_SERVICES,
        packages,
    };
}

/**
 * The least work that makes the host match: files whose checksum differs, packages missing,
 * only the ltsp applets whose inputs changed, and a dnsmasq restart only when its config
 * changed or it is not running. An empty plan means the host already matches.
 */
export function planServer(
    files: readonly DesiredFile[],
    packages: readonly string[],
    nfs: boolean,
    managed: Record<string, ManagedFileRecord>,
    observed: HostObservation,
    imagesChanged = false,
): Step[] {
    const steps: Step[] = [];
    const changed = (path: string) => {
        const file = files.find((f) => f.path === path);
        return file !== undefined && observed.files[path] !== file.sha256;
    };
    const write = (path: string) => {
        const file = files.find((f) => f.path === path);
        if (file) steps.push(...planFile(managedServerFile(file), observed));
    };

    // The proxy first: installing needs it.
    write(APT_PROXY_CONF);
    const missing = packages.filter((p) => observed.packages[p] == null);
    if (missing.length > 0) steps.push({ kind: "install", packages: missing, why: "not installed" });
    write(LTSP_CONF);
    write(DNSMASQ_CONF);
    steps.push(
        ...planReleases(
            managed,
            files.map((f) => f.path),
            (path) => (path === DNSMASQ_CONF ? ["dnsmasq"] : undefined),
        ),
    );

    // ltsp.conf reaches the clients through `ltsp initrd`. `ltsp ipxe` installs the iPXE
    // binaries (and, as before, runs when ltsp.conf or the served images change); it also
    // overwrites the menu, so ours is written after it, every time it runs.
    const confChanged = changed(LTSP_CONF);
    let ipxeRan = false;
    if (confChanged || imagesChanged || IPXE_BINARIES.some((f) => observed.files[f] === null)) {
        const why = confChanged ? "ltsp.conf changed" : imagesChanged ? "the served images changed" : "iPXE binaries missing";
        steps.push(ltspApplet("ipxe", IPXE_FILES, why));
        ipxeRan = true;
    }
    if (confChanged || observed.files[LTSP_IMG] === null) {
        steps.push(ltspApplet("initrd", [LTSP_IMG], confChanged ? "ltsp.conf changed" : "ltsp.img missing"));
    }
    if (nfs && observed.files[NFS_EXPORTS] === null) {
        steps.push(ltspApplet("nfs", [NFS_EXPORTS], "NFS exports missing"));
    }
    const menu = files.find((f) => f.path === LTSP_IPXE);
    if (menu && (ipxeRan || changed(LTSP_IPXE))) {
        steps.push({
            kind: "write",
            file: menu,
            why: ipxeRan ? "`ltsp ipxe` rewrites it" : observed.files[LTSP_IPXE] === null ? "missing" : "content differs",
        });
    }
    // nbd-server reads its authfile at each connection: no restart for the list alone.
    write(NBD_SERVER_ALLOW);
    write(NBD_SERVER_CONF);
    write(LIGHTTPD_CONF);
    write(NODE_EXPORTER_DEFAULTS);

    // A service restarts only when its config changed or it is not running.
    for (const { service, config, package: pkg } of SERVICE_CONFIGS) {
        if (!files.some((f) => f.path === config)) continue;
        steps.push(...planService(service, observed.services[service], changed(config), missing.includes(pkg)));
    }
    return steps;
}

/** The link that makes a NUL-suffixed root path (Windows DHCP) resolve: DIR/000 -> DIR. */
export function nulLinkOf(dir: string): string {
    return `${dir}/000`;
}

/** The paths whose links planNulLinks reads: the wanted ones and those this resource made before. */
export function nulLinkPaths(wanted: readonly string[], had: readonly string[]): string[] {
    return [...new Set([...wanted, ...had])].map(nulLinkOf);
}

/** A link for each wanted DIR whose DIR/000 is not yet a link to it; the links no longer wanted go. */
export function planNulLinks(wanted: readonly string[], had: readonly string[], links: Record<string, string | null>): Step[] {
    const make: Step[] = wanted
        .filter((dir) => links[nulLinkOf(dir)] !== dir)
        .map((dir) => ({ kind: "link", path: nulLinkOf(dir), target: dir, why: "NUL-suffixed root path" }));
    const remove: Step[] = had
        .filter((dir) => !wanted.includes(dir) && links[nulLinkOf(dir)] != null)
        .map((dir) => ({ kind: "unlink", path: nulLinkOf(dir), why: "no longer wanted" }));
    return [...make, ...remove];
}
