import { z } from "zod";
import { connectionSchema } from "../core/connection";
import { cidr, formatIssues, hostAddressProblem, inRange, ipv4, ipv4ToNumber, parseSubnet, type Validated } from "../core/fields";
import { BIOS_BOOT_FILE, IPXE_SCRIPT, UEFI_BOOT_FILE } from "../core/hostPaths";
import { checkNodeSet, nodeSchema } from "../core/node";

export const DHCP_KINDS = ["dnsmasq", "isc", "kea", "windows"] as const;

const bootFile = z.string().regex(/^[A-Za-z0-9._/-]+$/, "is not a TFTP path (letters, digits, . _ / -)");

const bootSchema = z
    .object({
        /** The TFTP server (option 66 / siaddr): an address, because Windows clients need one. */
        nextServer: ipv4,
        biosBootFile: bootFile.default(BIOS_BOOT_FILE),
        uefiBootFile: bootFile.default(UEFI_BOOT_FILE),
        /** For clients already running iPXE (option 175 / user class "iPXE"): the LTSP menu. */
        ipxeScript: bootFile.default(IPXE_SCRIPT),
        /** Option 17, e.g. 10.0.0.1:/ltsp/i386 for NFS-root clients. */
        rootPath: z
            .string()
            .regex(/^[A-Za-z0-9._:/-]+$/, "is not a root path (host:/path or /path)")
            .optional(),
        /** Also send options 66 and 67, for firmware that ignores the BOOTP next-server and file fields. */
        sendBootOptions: z.boolean().default(false),
    })
    .strict();

const windowsSchema = z
    .object({
        /** The scope's ID as Windows names it: the subnet's network address. */
        scopeId: ipv4,
        /** Option 60 "PXEClient" tells clients a PXE server runs on this very host: set it only then. */
        pxeServerOnDhcpHost: z.boolean().default(false),
        /**
         * Manage a scope that already exists on the server and that this resource did not create (else
         * create refuses, naming it). What it did not create (reservations, options, policies, classes)
         * is kept unless the config names it; delete leaves the scope and those entries.
         */
        adopt: z.boolean().default(false),
        /**
         * Let a change of the subnet mask remove and add again the scope this resource created, though
         * clients hold leases in it (Windows fixes a scope's mask when it is added). Never a scope it
         * adopted, nor one holding reservations or policies it did not create.
         */
        allowReplace: z.boolean().default(false),
    })
    .strict();

export const scopeSchema = z
    .object({
        /** Which DHCP server: dnsmasq (on the LTSP server), ISC dhcpd (end of life), Kea DHCPv4, or Windows DHCP Server. */
        kind: z.enum(DHCP_KINDS),
        /** SSH to the DHCP server (OpenSSH for Windows Server with the DhcpServer module for "windows"). */
        connection: connectionSchema,
        /** The scope's name: dnsmasq's /etc/dnsmasq.d/netboot-scope-NAME.conf, the Windows scope's Name. */
        name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, "is not a scope name (lower-case letters, digits, -)"),
        /** The interface the DHCP server answers on (Linux servers). */
        interface: z
            .string()
            .regex(/^[A-Za-z0-9_.:-]{1,15}$/, "is not a network interface name")
            .optional(),
        /** The scope's network with its prefix (10.20.0.0/24). */
        subnet: cidr,
        /** proxy: dnsmasq only, boot information beside another DHCP server. */
        mode: z.enum(["full", "proxy"]).default("full"),
        /** The dynamic range (required in full mode), inside the subnet. */
        rangeStart: ipv4.optional(),
        rangeEnd: ipv4.optional(),
        /** Option 3. */
        router: ipv4.optional(),
        /** Option 6. */
        dnsServers: z.array(ipv4).default([]),
        domain: z
            .string()
            .regex(/^[A-Za-z0-9.-]+$/, "is not a domain name")
            .optional(),
        /** Lease time in seconds. */
        leaseSeconds: z.number().int().min(60, "is shorter than a minute").default(43200),
        /** Where PXE and iPXE clients get their boot files. */
        boot: bootSchema,
        /** The clients; those with an `ip` get a reservation. */
        nodes: z.array(nodeSchema).default([]),
        /** kind "windows" only: how the scope is known and managed on the Windows server. */
        windows: windowsSchema.optional(),
    })
    .strict()
    .superRefine((spec, ctx) => {
        const subnet = parseSubnet(spec.subnet);
        if (!subnet) return;
        const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: "custom", path, input, message });
        if (spec.mode === "proxy" && spec.kind !== "dnsmasq")
            issue(["mode"], spec.mode, `is only supported by kind "dnsmasq" (this scope is "${spec.kind}")`);
        if (spec.mode === "full") {
            for (const field of ["rangeStart", "rangeEnd"] as const) {
                const value = spec[field];
                if (value === undefined) issue([field], value, 'is required when mode is "full"');
                else {
                    const problem = hostAddressProblem(value, subnet);
                    if (problem) issue([field], value, problem);
                }
            }
            if (spec.rangeStart && spec.rangeEnd && ipv4ToNumber(spec.rangeStart) > ipv4ToNumber(spec.rangeEnd)) {
                issue(["rangeEnd"], spec.rangeEnd, `comes before rangeStart ${spec.rangeStart}`);
            }
        }
        if (spec.router) {
            const problem =
                hostAddressProblem(spec.router, subnet) ??
                (spec.mode === "full" && spec.rangeStart && spec.rangeEnd && inRange(spec.router, spec.rangeStart, spec.rangeEnd)
                    ? `is inside the dynamic range ${spec.rangeStart}-${spec.rangeEnd}: the scope would lease the router's address to a client`
                    : undefined);
            if (problem) issue(["router"], spec.router, problem);
        }
        if (spec.kind !== "windows" && !spec.interface) issue(["interface"], spec.interface, `is required for kind "${spec.kind}"`);
        if (spec.kind === "windows") {
            if (!spec.windows) issue(["windows"], spec.windows, 'is required for kind "windows" (scopeId)');
            else if (spec.windows.scopeId !== subnet.network) {
                issue(["windows", "scopeId"], spec.windows.scopeId, `does not match subnet ${spec.subnet}, whose scope ID is ${subnet.network}`);
            }
        } else if (spec.windows) {
            issue(["windows"], "…", `only applies to kind "windows"`);
        }
    });

export type ScopeSpec = z.infer<typeof scopeSchema>;

export function validateScope(inputs: unknown): Validated<ScopeSpec> {
    const result = scopeSchema.safeParse(inputs, { reportInput: true });
    if (!result.success) return { ok: false, failures: formatIssues(result.error.issues, ["connection.privateKey"]) };
    const spec = result.data;
    const failures = checkNodeSet(spec.nodes, {
        field: "nodes",
        subnet: parseSubnet(spec.subnet),
        dynamicRange: spec.mode === "full" && spec.rangeStart && spec.rangeEnd ? [spec.rangeStart, spec.rangeEnd] : undefined,
        taken: {
            [spec.boot.nextServer]: "the boot server (boot.nextServer)",
            ...(spec.router ? { [spec.router]: "the router (router)" } : {}),
        },
    });
    return failures.length ? { ok: false, failures } : { ok: true, spec };
}

export interface Reservation {
    mac: string;
    ip: string;
    hostname: string;
}

export function reservations(spec: ScopeSpec): Reservation[] {
    return spec.nodes
        .filter((n) => n.ip !== undefined)
        .map((n) => ({ mac: n.mac, ip: n.ip!, hostname: n.hostname }))
        .sort((a, b) => ipv4ToNumber(a.ip) - ipv4ToNumber(b.ip));
}
