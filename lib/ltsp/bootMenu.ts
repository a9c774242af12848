// biome-ignore-all lint/suspicious/noTemplateCurlyInString: iPXE scripts name their settings ${like_this}; these strings are iPXE, not templates
import { z } from "zod";
import { ipxeSafeValue } from "../core/fields";
import { IPXE_SCRIPT, TFTP_ROOT } from "../core/hostPaths";
import type { NodeSpec } from "../core/node";
import { renderTemplate } from "../render/templates";
import type { LtspConfSection } from "./ltspConf";

/**
 * How clients boot from an LtspServer: the root filesystem transport, how iPXE fetches kernels
 * and initrds, and the iPXE menu (/srv/tftp/ltsp/ltsp.ipxe), which we render ourselves from
 * templates/ltsp.ipxe.hbs instead of leaving it to `ltsp ipxe` (that applet writes an NFS-only
 * method line and rewrites the file on every run).
 */

/** The menu file `ltsp ipxe` would write; we own it as a managed file. */
export const LTSP_IPXE = `${TFTP_ROOT}/${IPXE_SCRIPT}`;
/** nbd-server's configuration (Debian's path). */
export const NBD_SERVER_CONF = "/etc/nbd-server/config";
/** nbd-server's allow list (authfile of every export): the LAN subnet. */
export const NBD_SERVER_ALLOW = "/etc/nbd-server/allow";
/** lighttpd's main configuration (Debian's path; its unit checks it with `lighttpd -tt`). */
export const LIGHTTPD_CONF = "/etc/lighttpd/lighttpd.conf";
/** LTSP keeps squashfs images here (BASE_DIR/images). */
export const IMAGE_DIR = "/srv/ltsp/images";

export const ROOT_TRANSPORTS = ["nfs", "nbd"] as const;
export type RootTransport = (typeof ROOT_TRANSPORTS)[number];

/** Labels the menu script itself uses: an extra entry may not take one. */
export const RESERVED_ENTRY_IDS: ReadonlySet<string> = new Set([
    "start",
    "images",
    "roots",
    "ltsp",
    "config",
    "shell",
    "disk",
    "exit",
    "cancel",
    "failed",
    "memtest",
    "root_path_done",
]);

const entryId = z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, "is not a menu entry id (lower-case letter first, then letters, digits, _ and -, up to 32)");

/** One line of iPXE script. A line starting with ":" would be a label and change the script's flow. */
const ipxeLine = z
    .string()
    .refine((line) => !/[\r\n]/.test(line), "contains a line break; give one iPXE command per entry")
    .refine(
        (line) => line.trim() !== "" && !line.trim().startsWith(":") && !line.trim().startsWith("#!"),
        "is not an iPXE command (empty, a label or a shebang)",
    );

/**
 * An extra menu entry (e.g. Clonezilla save/restore): its own iPXE commands. When they return
 * (a failed `boot`), the menu's "Booting failed" path runs.
 */
export const menuEntrySchema = z
    .object({
        id: entryId,
        /** The text shown in the menu. */
        title: ipxeSafeValue.regex(/^[^\r\n]{1,60}$/, "is not a one-line title of 1-60 characters"),
        /** A hot key, one letter or digit. */
        key: z
            .string()
            .regex(/^[a-z0-9]$/, "is not a single lower-case letter or digit")
            .optional(),
        /** The iPXE commands, e.g. ["kernel http://${srv}/clonezilla/vmlinuz ...", "initrd ...", "boot"]. */
        script: z.array(ipxeLine).min(1, "needs at least one iPXE command"),
    })
    .strict();

export type MenuEntry = z.infer<typeof menuEntrySchema>;

export const bootSchema = z
    .object({
        /**
         * How a client reaches its image: "nfs" as `ltsp ipxe` writes it (root=/dev/nfs, needs a
         * kernel NFS server), or "nbd": each served image is a read-only nbd-server export named
         * after it (root=/dev/nbd0 nbdroot=SERVER,IMAGE,nbd0; nbd-server is user space).
         */
        rootTransport: z.enum(ROOT_TRANSPORTS).default("nfs"),
        /** Fetch kernels and initrds over HTTP (lighttpd on the LAN address, port 80) instead of TFTP. */
        http: z.boolean().default(false),
        /**
         * The entry a client without its own [MAC] section boots when the menu times out: an image,
         * an extra entry's id, or "disk". Default: [server]/[common] DEFAULT_IMAGE, else LTSP's x86_64/x86_32.
         */
        defaultEntry: entryId.optional(),
        /** Extra entries after the images and before the built-in ones (local disk, shell, ...). */
        menuEntries: z.array(menuEntrySchema).default([]),
    })
    .strict();

export type BootSpec = z.infer<typeof bootSchema>;

/** Problems a schema alone cannot see: ids that collide with images or the script's labels, an unknown default. */
export function checkBoot(boot: BootSpec, images: readonly string[]): Array<{ path: (string | number)[]; message: string; input: unknown }> {
    const problems: Array<{ path: (string | number)[]; message: string; input: unknown }> = [];
    const seen = new Set<string>();
    boot.menuEntries.forEach((entry, i) => {
        if (RESERVED_ENTRY_IDS.has(entry.id)) {
            problems.push({
                path: ["boot", "menuEntries", i, "id"],
                input: entry.id,
                message: `is a label of the menu script itself (${[...RESERVED_ENTRY_IDS].join(", ")})`,
            });
        } else if (images.includes(entry.id)) {
            problems.push({ path: ["boot", "menuEntries", i, "id"], input: entry.id, message: "is the name of a served image" });
        } else if (seen.has(entry.id)) {
            problems.push({ path: ["boot", "menuEntries", i, "id"], input: entry.id, message: "is the id of another entry" });
        }
        seen.add(entry.id);
    });
    if (boot.defaultEntry !== undefined && boot.defaultEntry !== "disk" && !images.includes(boot.defaultEntry) && !seen.has(boot.defaultEntry)) {
        problems.push({
            path: ["boot", "defaultEntry"],
            input: boot.defaultEntry,
            message: `is neither a served image (${images.join(", ") || "none"}), an entry of boot.menuEntries, nor "disk"`,
        });
    }
    return problems;
}

/** The kernel command line that mounts the image's root, as iPXE script (${srv}, ${img} are iPXE settings). */
export function methodLine(transport: RootTransport): string {
    return transport === "nbd"
        ? // nbd-client's initramfs script connects /dev/nbd0 to the export named after the image.
          "set cmdline_method root=/dev/nbd0 nbdroot=${srv},${img},nbd0"
        : // As `ltsp ipxe` writes it (BASE_DIR /srv/ltsp).
          "set cmdline_method root=/dev/nfs nfsroot=${srv}:/srv/ltsp ltsp.image=images/${img}.img loop.max_part=9";
}

/** The menu-wide settings `ltsp ipxe` takes from ltsp.conf: it evaluates [common], then [server]. */
function menuWide(sections: { server?: LtspConfSection; common?: LtspConfSection }) {
    const pick = <K extends keyof LtspConfSection>(key: K) => sections.server?.[key] ?? sections.common?.[key];
    return { defaultImage: pick("defaultImage"), menuTimeout: pick("menuTimeout"), kernelParameters: pick("kernelParameters") };
}

/**
 * The raw DHCP option 17 values that name `image`, as iPXE's `${root-path:hex}` prints them
 * (lower-case hex bytes joined by ":"): NAME and NAME/ (the trailing slash LTSP admins put in
 * Windows DHCP root paths), each as sent and with the one NUL Microsoft's DHCP server appends to
 * string options. Image names are ASCII (imageName), one byte per character.
 */
export function rootPathForms(image: string): string[] {
    const hex = (text: string) => [...Buffer.from(text, "latin1")].map((b) => b.toString(16).padStart(2, "0")).join(":");
    return [image, `${image}/`].flatMap((text) => [hex(text), hex(`${text}\0`)]);
}

export interface MenuInput {
    boot: BootSpec;
    images: readonly string[];
    nodes: readonly NodeSpec[];
    ltspConf: { server?: LtspConfSection; common?: LtspConfSection };
}

/** iPXE's `item` line as `ltsp ipxe` prints it: key, id padded to 20, title. */
function itemLine(key: string | undefined, id: string, title: string): string {
    return `item ${key ? `--key ${key} ` : ""}${id.padEnd(20)} ${title}`;
}

export function renderBootMenu(input: MenuInput, resource: string): string {
    const wide = menuWide(input.ltspConf);
    const defaultEntry = input.boot.defaultEntry ?? wide.defaultImage;
    // Keys 1-9, 0 for the images, as `ltsp ipxe` numbers them.
    const images = input.images.map((name, i) => ({ id: name, item: itemLine(String((i + 1) % 10), name, name) }));
    const entries = input.boot.menuEntries.map((e) => ({ id: e.id, item: itemLine(e.key, e.id, e.title), script: e.script }));
    const clients = [...input.nodes]
        .sort((a, b) => a.mac.localeCompare(b.mac))
        .map((node) => ({
            mac: node.mac,
            lines: [
                `set hostname ${node.hostname}`,
                `set img ${node.image}`,
                ...(node.kernelParameters !== undefined ? [`set cmdline_client ${node.kernelParameters}`] : []),
                ...(node.menuTimeout !== undefined ? [`set menu-timeout ${node.menuTimeout}`] : []),
            ],
        }));
    const files = input.boot.http ? "http://${srv}/ltsp" : "/ltsp";
    return renderTemplate("ltsp.ipxe", {
        path: LTSP_IPXE,
        resource,
        transport: input.boot.rootTransport,
        http: input.boot.http,
        defaultEntry: defaultEntry ?? null,
        kernelParameters: wide.kernelParameters ?? null,
        menuTimeout: wide.menuTimeout ?? 5000,
        clients,
        images,
        rootPaths: input.images.flatMap((image) => rootPathForms(image).map((hex) => ({ image, hex }))),
        entries,
        methodLine: methodLine(input.boot.rootTransport),
        files,
    });
}

/** Where the boot services' clients are: the server's LAN address, and its subnet (CIDR). */
export interface LanBinding {
    address: string;
    network: string;
}

/**
 * One read-only export per served image, named after it (the name the menu's nbdroot= asks for),
 * on the LAN address only, each admitting the LAN subnet only (renderNbdServerAllow).
 */
export function renderNbdServerConf(images: readonly string[], lan: LanBinding, resource: string): string {
    return renderTemplate("nbd-server.conf", {
        path: NBD_SERVER_CONF,
        resource,
        address: lan.address,
        allowFile: NBD_SERVER_ALLOW,
        exports: [...images].sort().map((name) => ({ name, file: `${IMAGE_DIR}/${name}.img` })),
    });
}

/** The exports' authfile: the LAN subnet. */
export function renderNbdServerAllow(lan: LanBinding, resource: string): string {
    return renderTemplate("etc/nbd-server/allow", { path: NBD_SERVER_ALLOW, resource, network: lan.network });
}

/** lighttpd serving the TFTP tree (kernels, initrds, ltsp.img) read-only on the LAN address, to the LAN subnet only. */
export function renderLighttpdConf(lan: LanBinding, tftpRoot: string, resource: string): string {
    return renderTemplate("lighttpd.conf", { path: LIGHTTPD_CONF, resource, address: lan.address, network: lan.network, documentRoot: tftpRoot });
}
