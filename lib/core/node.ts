import { z } from "zod";
import {
    type CheckFailure,
    clientHostname,
    formatIssues,
    inSubnet,
    ipv4,
    ipv4ToNumber,
    kernelParameters,
    ltspPlainKey,
    type Subnet,
    shellSafeValue,
    type Validated,
} from "./fields";

/** A MAC as normalizeMac writes it (lower case, colons): 52:54:00:12:34:56. */
export const NORMAL_MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** MAC in any common notation -> 52:54:00:12:34:56, or undefined. */
export function normalizeMac(value: string): string | undefined {
    const hex = value.trim().toLowerCase();
    let digits: string | undefined;
    if (/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/.test(hex)) digits = hex.replace(/[:-]/g, "");
    else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(hex)) digits = hex.replace(/\./g, "");
    else if (/^[0-9a-f]{12}$/.test(hex)) digits = hex;
    return digits === undefined ? undefined : (digits.match(/../g) ?? []).join(":");
}

/** Microsoft DHCP's ClientId form of a MAC: 52-54-00-12-34-56. */
export function macToClientId(mac: string): string {
    return mac.replace(/:/g, "-");
}

/** A network card's MAC in any common notation, normalized (52:54:00:12:34:56). */
export const macAddress = z.string().transform((value, ctx) => {
    const normal = normalizeMac(value);
    if (!normal) {
        ctx.addIssue({ code: "custom", input: value, message: "is not a MAC address (like 52:54:00:12:34:56, 52-54-00-12-34-56 or 5254.0012.3456)" });
        return z.NEVER;
    }
    if (parseInt(normal.slice(0, 2), 16) & 1) {
        ctx.addIssue({ code: "custom", input: value, message: "is a multicast or broadcast address, not a network card's" });
        return z.NEVER;
    }
    if (normal === "00:00:00:00:00:00") {
        ctx.addIssue({ code: "custom", input: value, message: "is all zeros" });
        return z.NEVER;
    }
    return normal;
});

/** The ltsp.conf parameters a node sets through its own fields (and the server checks): not again in its ltspConf. */
const NODE_TYPED_KEYS: ReadonlySet<string> = new Set(["HOSTNAME", "DEFAULT_IMAGE", "KERNEL_PARAMETERS", "MENU_TIMEOUT"]);

export const imageName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "is not an image name (lower-case letters, digits, _ and -, up to 63)");

export const nodeSchema = z
    .object({
        /** The Pulumi resource name, so messages can name the node. */
        nodeName: z.string(),
        mac: macAddress,
        hostname: clientHostname,
        /** The ChrootImage (its name) this client boots by default. */
        image: imageName,
        /** A fixed address: a DHCP reservation where a DhcpScope manages them. */
        ip: ipv4.optional(),
        /** KERNEL_PARAMETERS: ltsp.conf (shell) and the boot menu's `set cmdline_client` line (iPXE). */
        kernelParameters: kernelParameters.optional(),
        /** MENU_TIMEOUT for this client: ms, 0 waits forever, -1 boots the image without a menu. */
        menuTimeout: z.number().int("is not a whole number of milliseconds").min(-1, "must be -1, 0 or more").optional(),
        /** Further ltsp.conf parameters for this client only, e.g. { MOSIX: "N" }. */
        ltspConf: z
            .record(
                ltspPlainKey.refine(
                    (k) => !NODE_TYPED_KEYS.has(k),
                    "has a field of its own on the node (hostname, image, kernelParameters, menuTimeout)",
                ),
                shellSafeValue,
            )
            .default({}),
        /** A label for inventory and monitoring (render-node, thin-client, ...). */
        role: z
            .string()
            .regex(/^[A-Za-z0-9 ._-]{0,64}$/, "is not a short label")
            .default(""),
    })
    .strict();

export type NodeSpec = z.infer<typeof nodeSchema>;

export function validateNode(inputs: unknown): Validated<NodeSpec> {
    const result = nodeSchema.safeParse(inputs, { reportInput: true });
    if (result.success) return { ok: true, spec: result.data };
    return { ok: false, failures: formatIssues(result.error.issues) };
}

/**
 * What one node may not share with another in the same stack, and where its fixed address may
 * lie. Each failure names both nodes.
 */
export function checkNodeSet(
    nodes: readonly NodeSpec[],
    opts: {
        field: string;
        images?: readonly string[];
        subnet?: Subnet;
        dynamicRange?: [string, string];
        /** Addresses no client may have, with what they are: the server, the router, next-server. */
        taken?: Record<string, string>;
    },
): CheckFailure[] {
    const failures: CheckFailure[] = [];
    const seen: Record<string, Map<string, string>> = { mac: new Map(), hostname: new Map(), ip: new Map() };
    nodes.forEach((node, i) => {
        const where = `${opts.field}[${i}] (${node.nodeName})`;
        for (const key of ["mac", "hostname", "ip"] as const) {
            const value = key === "hostname" ? node.hostname.toLowerCase() : node[key];
            if (value === undefined) continue;
            const other = seen[key].get(value);
            if (other !== undefined) {
                failures.push({ property: `${opts.field}[${i}].${key}`, reason: `${where}.${key}: "${value}" is also the ${key} of node ${other}` });
            } else {
                seen[key].set(value, node.nodeName);
            }
        }
        if (opts.images && !opts.images.includes(node.image)) {
            failures.push({
                property: `${opts.field}[${i}].image`,
                reason: `${where}.image: "${node.image}" is not an image of this server (known: ${opts.images.join(", ") || "none"})`,
            });
        }
        if (node.ip && opts.subnet && !inSubnet(node.ip, opts.subnet)) {
            failures.push({
                property: `${opts.field}[${i}].ip`,
                reason: `${where}.ip: "${node.ip}" is outside the subnet ${opts.subnet.network}/${opts.subnet.prefix}`,
            });
        }
        const taken =
            node.ip &&
            (opts.subnet && node.ip === opts.subnet.network
                ? "the network address"
                : opts.subnet && node.ip === opts.subnet.broadcast
                  ? "the broadcast address"
                  : opts.taken?.[node.ip]);
        if (node.ip && taken) {
            failures.push({
                property: `${opts.field}[${i}].ip`,
                reason: `${where}.ip: "${node.ip}" is ${taken}; a client needs an address of its own`,
            });
        }
        if (node.ip && opts.dynamicRange) {
            const [start, end] = opts.dynamicRange.map(ipv4ToNumber);
            const n = ipv4ToNumber(node.ip);
            if (n >= start && n <= end) {
                failures.push({
                    property: `${opts.field}[${i}].ip`,
                    reason: `${where}.ip: "${node.ip}" is inside the dynamic range ${opts.dynamicRange[0]}-${opts.dynamicRange[1]}; a reservation must lie outside it`,
                });
            }
        }
    });
    return failures;
}
