import { parseSubnet } from "../../core/fields";
import { macToClientId } from "../../core/node";
import { reservations, type ScopeSpec } from "../scopeSpec";
import type { WindowsScope } from "./state";

/** Our vendor and user classes, server-wide. */
export const CLASSES = [
    { Name: "netboot PXE BIOS", Type: "Vendor", Data: "PXEClient:Arch:00000" },
    { Name: "netboot PXE UEFI x64", Type: "Vendor", Data: "PXEClient:Arch:00007" },
    { Name: "netboot iPXE", Type: "User", Data: "iPXE" },
];

export interface DesiredPolicy {
    Name: string;
    ProcessingOrder: number;
    /** The one criterion our policy has, and its comparator and values, e.g. ["EQ", "netboot PXE BIOS*"]. */
    criterion: "VendorClass" | "UserClass";
    values: string[];
    bootFile: string;
}

/**
 * Windows appends a NUL to string options (17, 67). LTSP admins wrote the root path with a
 * trailing slash, so the NUL lands in a path component of its own, which the server resolves
 * through a link named 000 (`ln -s /ltsp/i386 /ltsp/i386/000`, LtspServer's nulSuffixLinks).
 */
export function windowsRootPath(rootPath: string): string {
    return rootPath.endsWith("/") ? rootPath : `${rootPath}/`;
}

export interface WindowsDesired {
    scopeId: string;
    /** The subnet as network/prefix, and the server (connection.host): for the refusals' messages. */
    subnet: string;
    server: string;
    /** windows.adopt and windows.allowReplace (see scopeSpec). */
    adopt: boolean;
    allowReplace: boolean;
    scope: WindowsScope;
    options: Map<number, string[]>;
    policies: DesiredPolicy[];
    reservations: Array<{ IPAddress: string; ClientId: string; Name: string }>;
    nextServer: string;
    wantOption60: boolean;
    /**
     * The description Add-DhcpServerv4Scope gives the scope ("netboot: " and the resource's managedBy):
     * how a create whose outputs were lost (Pulumi keeps none of a create that fails) knows the scope as its own.
     */
    mark?: string;
}

export function desiredWindowsScope(spec: ScopeSpec, managedBy?: string): WindowsDesired {
    const subnet = parseSubnet(spec.subnet)!;
    const options = new Map<number, string[]>();
    if (spec.router) options.set(3, [spec.router]);
    if (spec.dnsServers.length) options.set(6, spec.dnsServers);
    if (spec.domain) options.set(15, [spec.domain]);
    if (spec.boot.rootPath) options.set(17, [windowsRootPath(spec.boot.rootPath)]);
    const wantOption60 = spec.windows?.pxeServerOnDhcpHost ?? false;
    if (wantOption60) options.set(60, ["PXEClient"]);
    return {
        scopeId: subnet.network,
        subnet: `${subnet.network}/${subnet.prefix}`,
        server: spec.connection.host,
        adopt: spec.windows?.adopt ?? false,
        allowReplace: spec.windows?.allowReplace ?? false,
        scope: {
            ScopeId: subnet.network,
            Name: spec.name,
            StartRange: spec.rangeStart!,
            EndRange: spec.rangeEnd!,
            SubnetMask: subnet.netmask,
            LeaseSeconds: spec.leaseSeconds,
            State: "Active",
            ActivatePolicies: true,
        },
        options,
        // iPXE first: an iPXE client also sends a PXEClient vendor class. A trailing * matches the
        // class data as a prefix (Add-DhcpServerv4Policy -VendorClass): PXE clients send
        // "PXEClient:Arch:00000:UNDI:002001".
        policies: [
            { Name: "netboot-ipxe", ProcessingOrder: 1, criterion: "UserClass", values: ["EQ", "netboot iPXE"], bootFile: spec.boot.ipxeScript },
            {
                Name: "netboot-uefi",
                ProcessingOrder: 2,
                criterion: "VendorClass",
                values: ["EQ", "netboot PXE UEFI x64*"],
                bootFile: spec.boot.uefiBootFile,
            },
            {
                Name: "netboot-bios",
                ProcessingOrder: 3,
                criterion: "VendorClass",
                values: ["EQ", "netboot PXE BIOS*"],
                bootFile: spec.boot.biosBootFile,
            },
        ],
        reservations: reservations(spec).map((r) => ({ IPAddress: r.ip, ClientId: macToClientId(r.mac), Name: r.hostname })),
        nextServer: spec.boot.nextServer,
        wantOption60,
        mark: managedBy === undefined ? undefined : `netboot: ${managedBy}`,
    };
}
