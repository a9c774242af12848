import { parseSubnet } from "../core/fields";
import { sha256Hex } from "../core/sha256";
import { renderTemplate } from "../render/templates";
import { DNSMASQ_CHECK, dnsmasqDhcpContext } from "./dnsmasqDhcp";
import { reservations, type ScopeSpec } from "./scopeSpec";

export interface BackendFile {
    path: string;
    content: string;
    sha256: string;
    /** The daemon's own syntax check of a candidate file ($1), run before it replaces anything. */
    validate?: string;
}

/** A Linux DHCP server as this project drives it: package, files, service. */
export interface LinuxBackend {
    package: string;
    service: string;
    files: BackendFile[];
}

function file(path: string, content: string, validate?: string): BackendFile {
    return { path, content, validate, sha256: sha256Hex(content) };
}

function context(spec: ScopeSpec, resource: string, path: string) {
    const subnet = parseSubnet(spec.subnet)!;
    return {
        path,
        resource,
        name: spec.name,
        interface: spec.interface,
        tag: `nb-${spec.name}`,
        proxy: spec.mode === "proxy",
        subnet: `${subnet.network}/${subnet.prefix}`,
        network: subnet.network,
        netmask: subnet.netmask,
        rangeStart: spec.rangeStart ?? null,
        rangeEnd: spec.rangeEnd ?? null,
        pool: spec.rangeStart && spec.rangeEnd ? `${spec.rangeStart} - ${spec.rangeEnd}` : null,
        leaseSeconds: spec.leaseSeconds,
        router: spec.router ?? null,
        dnsServers: spec.dnsServers.length ? spec.dnsServers.join(", ") : null,
        domain: spec.domain ?? null,
        rootPath: spec.boot.rootPath ?? null,
        nextServer: spec.boot.nextServer,
        biosBootFile: spec.boot.biosBootFile,
        uefiBootFile: spec.boot.uefiBootFile,
        ipxeScript: spec.boot.ipxeScript,
        sendBootOptions: spec.boot.sendBootOptions,
        reservations: reservations(spec),
    };
}

export function linuxBackend(spec: ScopeSpec, resource: string): LinuxBackend {
    switch (spec.kind) {
        case "dnsmasq": {
            const path = `/etc/dnsmasq.d/netboot-scope-${spec.name}.conf`;
            const dhcp = dnsmasqDhcpContext({
                tag: `nb-${spec.name}`,
                proxy: spec.mode === "proxy",
                subnet: parseSubnet(spec.subnet)!,
                rangeStart: spec.rangeStart,
                rangeEnd: spec.rangeEnd,
                lease: String(spec.leaseSeconds),
                router: spec.router,
                dnsServers: spec.dnsServers,
                domain: spec.domain,
                rootPath: spec.boot.rootPath,
                reservations: reservations(spec),
                boot: spec.boot,
            });
            const ctx = { path, resource, name: spec.name, interface: spec.interface, dhcp };
            return {
                package: "dnsmasq",
                service: "dnsmasq",
                files: [file(path, renderTemplate("dhcp-dnsmasq.conf", ctx), DNSMASQ_CHECK)],
            };
        }
        case "isc": {
            const conf = "/etc/dhcp/dhcpd.conf";
            const defaults = "/etc/default/isc-dhcp-server";
            return {
                package: "isc-dhcp-server",
                service: "isc-dhcp-server",
                files: [
                    file(conf, renderTemplate("dhcpd.conf", context(spec, resource, conf)), 'dhcpd -4 -t -cf "$1"'),
                    file(defaults, renderTemplate("isc-dhcp-server.default", context(spec, resource, defaults))),
                ],
            };
        }
        case "kea": {
            const path = "/etc/kea/kea-dhcp4.conf";
            const ctx = context(spec, resource, path);
            const optionData = [
                ...(spec.router ? [{ name: "routers", data: spec.router }] : []),
                ...(spec.dnsServers.length ? [{ name: "domain-name-servers", data: spec.dnsServers.join(", ") }] : []),
                ...(spec.domain ? [{ name: "domain-name", data: spec.domain }] : []),
                ...(spec.boot.rootPath ? [{ name: "root-path", data: spec.boot.rootPath }] : []),
                ...(spec.boot.sendBootOptions ? [{ name: "tftp-server-name", data: spec.boot.nextServer }] : []),
            ];
            return {
                package: "kea-dhcp4-server",
                service: "kea-dhcp4-server",
                files: [file(path, renderTemplate("kea-dhcp4.conf", { ...ctx, optionData }), 'kea-dhcp4 -t "$1"')],
            };
        }
        case "windows":
            throw new Error("the windows kind is not a Linux backend");
    }
}
