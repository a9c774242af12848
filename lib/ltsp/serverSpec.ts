import { z } from "zod";
import { connectionSchema } from "../core/connection";
import {
    aptProxyUrl,
    cidr,
    debianPackage,
    dhcpLeaseTime,
    formatIssues,
    hostAddressProblem,
    inRange,
    inSubnet,
    ipv4,
    ipv4ToNumber,
    parseSubnet,
    port,
    type Validated,
} from "../core/fields";
import { checkNodeSet, imageName, nodeSchema } from "../core/node";
import { bootSchema, checkBoot } from "./bootMenu";
import { type LtspConfSection, ltspConfSectionSchema, TYPED_KEYS } from "./ltspConf";

export const DHCP_MODES = ["full", "proxy", "none"] as const;

const dhcpSchema = z
    .object({
        /** full: hand out addresses; proxy: boot info beside another DHCP server (proxyDHCP); none: TFTP only (a DHCP server elsewhere points the clients here). */
        mode: z.enum(DHCP_MODES),
        /** full only (so are the fields below): the dynamic range. */
        rangeStart: ipv4.optional(),
        rangeEnd: ipv4.optional(),
        leaseTime: dhcpLeaseTime.default("12h"),
        router: ipv4.optional(),
        dnsServers: z.array(ipv4).optional(),
        domain: z
            .string()
            .regex(/^[A-Za-z0-9.-]+$/, "is not a domain name")
            .optional(),
    })
    .strict();

const ltspConfSchema = z
    .object({
        server: ltspConfSectionSchema.optional(),
        common: ltspConfSectionSchema.optional(),
        clients: ltspConfSectionSchema.optional(),
    })
    .strict();

export const ltspServerSchema = z
    .object({
        connection: connectionSchema,
        /** Acquire::http::Proxy for apt, e.g. the site's apt-cacher-ng. */
        aptProxy: aptProxyUrl.optional(),
        /** More Debian packages to install. */
        extraPackages: z.array(debianPackage).default([]),
        /** On delete, also purge the packages this resource installed. */
        removePackagesOnDelete: z.boolean().default(false),
        /** The LAN the clients boot on: the server's interface and its address with prefix. */
        lan: z.object({ interface: z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, "is not a network interface name"), address: cidr }).strict(),
        dhcp: dhcpSchema,
        /**
         * ltsp.conf's [server], [common] and [clients] sections: typed fields (menuTimeout, defaultImage,
         * kernelParameters, ...), `extra` for any other KEY: value, and `commands` for the parameters LTSP
         * runs as commands on the clients (POST_INIT_x, PRE_LOGIN_x, CRONTAB_x, ...: one-line shell,
         * written single-quoted so it arrives exactly as given; `extra` refuses them).
         */
        ltspConf: ltspConfSchema.default({}),
        /** Export the images over NFS (`ltsp nfs`); needs a kernel NFS server on the host. */
        nfs: z.boolean().default(false),
        /** Names of the ChrootImages this server serves (their menu entries come from `ltsp ipxe`). */
        images: z.array(imageName).default([]),
        /**
         * NFS root directories that clients may ask for with a NUL appended (Windows DHCP appends
         * one to option 17): each gets a link named 000 to itself, as LTSP admins did.
         */
        nulSuffixLinks: z
            .array(z.string().regex(/^\/[A-Za-z0-9._+/-]*[^/]$/, "is not an absolute directory path without a trailing slash"))
            .default([]),
        /** The clients: each NodeAssignment's spec, written as its [MAC] section of ltsp.conf. */
        nodes: z.array(nodeSchema).default([]),
        /** Root transport (nfs, nbd), kernels over HTTP, the menu's default and extra entries (lib/ltsp/bootMenu.ts). */
        boot: bootSchema.prefault({}),
        /**
         * Monitoring on the server itself: Debian's prometheus-node-exporter, listening on
         * listenAddress:nodeExporterPort. Its client is Prometheus, which scrapes the address the
         * site's file_sd names (lib/monitoring/inventory.ts): listenAddress, by default
         * connection.host (an address; when connection.host is a name, listenAddress is required).
         * Absent means none (and no change to existing stacks' inputs).
         */
        monitoring: z
            .object({ nodeExporter: z.boolean().default(false), nodeExporterPort: port.default(9100), listenAddress: ipv4.optional() })
            .strict()
            .optional(),
    })
    .strict()
    .superRefine((spec, ctx) => {
        const subnet = parseSubnet(spec.lan.address);
        if (!subnet) return; // already reported by `cidr`
        const lanProblem = hostAddressProblem(subnet.address, subnet);
        if (lanProblem) {
            ctx.addIssue({
                code: "custom",
                path: ["lan", "address"],
                input: spec.lan.address,
                message: `${lanProblem}: the server needs a host address of its own, with the prefix`,
            });
        }
        const dhcp = spec.dhcp;
        if (dhcp.mode === "full") {
            for (const field of ["rangeStart", "rangeEnd"] as const) {
                const value = dhcp[field];
                if (value === undefined) {
                    ctx.addIssue({ code: "custom", path: ["dhcp", field], input: value, message: 'is required when dhcp.mode is "full"' });
                } else if (!inSubnet(value, subnet)) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["dhcp", field],
                        input: value,
                        message: `is outside the LAN subnet ${subnet.network}/${subnet.prefix} (lan.address)`,
                    });
                } else if (value === subnet.network || value === subnet.broadcast || value === subnet.address) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["dhcp", field],
                        input: value,
                        message: `is the network, broadcast or server address of ${subnet.network}/${subnet.prefix}`,
                    });
                }
            }
            if (dhcp.rangeStart && dhcp.rangeEnd && inSubnet(dhcp.rangeStart, subnet) && inSubnet(dhcp.rangeEnd, subnet)) {
                const [start, end, server] = [dhcp.rangeStart, dhcp.rangeEnd, subnet.address].map(ipv4ToNumber);
                if (start > end) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["dhcp", "rangeEnd"],
                        input: dhcp.rangeEnd,
                        message: `comes before dhcp.rangeStart ${dhcp.rangeStart}`,
                    });
                } else if (server >= start && server <= end) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["dhcp", "rangeStart"],
                        input: dhcp.rangeStart,
                        message: `range ${dhcp.rangeStart}-${dhcp.rangeEnd} contains the server's own address ${subnet.address}`,
                    });
                }
            }
        } else {
            for (const field of ["rangeStart", "rangeEnd", "router", "dnsServers", "domain"] as const) {
                if (dhcp[field] !== undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["dhcp", field],
                        input: dhcp[field],
                        message: `only applies when dhcp.mode is "full" (it is "${dhcp.mode}")`,
                    });
                }
            }
        }
        const routerProblem =
            dhcp.router &&
            (hostAddressProblem(dhcp.router, subnet) ??
                (dhcp.mode === "full" && dhcp.rangeStart && dhcp.rangeEnd && inRange(dhcp.router, dhcp.rangeStart, dhcp.rangeEnd)
                    ? `is inside the dynamic range ${dhcp.rangeStart}-${dhcp.rangeEnd}: the server would lease the router's address to a client`
                    : undefined));
        if (routerProblem) {
            ctx.addIssue({ code: "custom", path: ["dhcp", "router"], input: dhcp.router, message: routerProblem });
        }
        if (spec.monitoring?.nodeExporter && nodeExporterAddress(spec) === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["monitoring", "listenAddress"],
                input: undefined,
                message: `is required when connection.host ("${spec.connection.host}") is a name: the exporter listens on one address, the one Prometheus scrapes`,
            });
        }
        if (spec.connection.user !== "root" && !spec.connection.sudo) {
            ctx.addIssue({
                code: "custom",
                path: ["connection", "sudo"],
                input: spec.connection.sudo,
                message: `must be true when connection.user is "${spec.connection.user}" (not root): provisioning writes /etc and runs apt`,
            });
        }
        for (const problem of checkBoot(spec.boot, spec.images)) ctx.addIssue({ code: "custom", ...problem });
        for (const name of ["server", "common", "clients"] as const) {
            const defaultImage = spec.ltspConf[name]?.defaultImage;
            if (defaultImage !== undefined && !spec.images.includes(defaultImage)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["ltspConf", name, "defaultImage"],
                    input: defaultImage,
                    message: `is not an image this server serves (images: ${spec.images.join(", ") || "none"})`,
                });
            }
            for (const key of Object.keys(spec.ltspConf[name]?.extra ?? {})) {
                if (TYPED_KEYS.has(key)) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["ltspConf", name, "extra", key],
                        input: key,
                        message: "has a typed field: set that instead of extra",
                    });
                }
            }
        }
    });

export type LtspServerSpec = z.infer<typeof ltspServerSchema>;

/** The one address the node exporter listens on (what file_sd names): monitoring.listenAddress, else connection.host when it is an address. */
export function nodeExporterAddress(spec: { connection: { host: string }; monitoring?: { listenAddress?: string } }): string | undefined {
    return spec.monitoring?.listenAddress ?? (ipv4.safeParse(spec.connection.host).success ? spec.connection.host : undefined);
}

export function validateLtspServer(inputs: unknown): Validated<LtspServerSpec> {
    const result = ltspServerSchema.safeParse(inputs, { reportInput: true });
    if (!result.success) return { ok: false, failures: formatIssues(result.error.issues, ["connection.privateKey"]) };
    const spec = result.data;
    const dhcp = spec.dhcp;
    const subnet = parseSubnet(spec.lan.address);
    const failures = checkNodeSet(spec.nodes, {
        field: "nodes",
        images: spec.images,
        subnet,
        dynamicRange: dhcp.mode === "full" && dhcp.rangeStart && dhcp.rangeEnd ? [dhcp.rangeStart, dhcp.rangeEnd] : undefined,
        taken: {
            ...(dhcp.router ? { [dhcp.router]: "the router (dhcp.router)" } : {}),
            ...(subnet ? { [subnet.address]: "the server's own address (lan.address)" } : {}),
        },
    });
    return failures.length ? { ok: false, failures } : { ok: true, spec };
}

export type { LtspConfSection };
