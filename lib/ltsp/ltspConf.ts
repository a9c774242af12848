import { z } from "zod";
import { dnsLabel, ipv4, kernelParameters, ltspCommand, ltspCommandKey, ltspPlainKey, shellSafeValue } from "../core/fields";
import type { NodeSpec } from "../core/node";
import { renderTemplate } from "../render/templates";

/**
 * The common ltsp.conf(5) directives as typed fields. Anything else goes in `extra` as
 * KEY=VALUE, validated the same way: ltsp.conf is turned into shell code on every client.
 */
export const ltspConfSectionSchema = z
    .object({
        /** MENU_TIMEOUT: iPXE menu time in ms; 0 waits forever, -1 hides the menu. */
        menuTimeout: z.number().int("is not a whole number of milliseconds").min(-1, "must be -1 (hide), 0 (forever) or more").optional(),
        /** DEFAULT_IMAGE: the menu entry booted when the timeout ends, e.g. "x86_64". */
        defaultImage: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "is not an image name (letters, digits, . _ -)")
            .optional(),
        /** KERNEL_PARAMETERS: extra kernel command line for the clients. */
        kernelParameters: kernelParameters.optional(),
        /** HOSTNAME: the client's host name. */
        hostname: dnsLabel.optional(),
        /** DNS_SERVER: name servers for the clients. */
        dnsServers: z.array(ipv4).optional(),
        /** SEARCH_DOMAIN */
        searchDomain: z
            .string()
            .regex(/^[A-Za-z0-9.-]+$/, "is not a domain name")
            .optional(),
        /** SERVER: the LTSP server the clients use for SSHFS/NFS/NBD and logins. */
        server: ipv4.optional(),
        /** IMAGE_TO_RAM: copy the image into client RAM at boot. */
        imageToRam: z.boolean().optional(),
        /** LOCAL_SWAP: use a swap partition found on the client's disk. */
        localSwap: z.boolean().optional(),
        /** AUTOLOGIN: log this user in automatically. */
        autologin: z
            .string()
            .regex(/^[a-z_][a-z0-9_-]*$/, "is not a user name")
            .optional(),
        /** RELOGIN: log in again automatically after logout (with AUTOLOGIN). */
        relogin: z.boolean().optional(),
        /** DEBUG_SHELL: drop to a shell on boot errors. */
        debugShell: z.boolean().optional(),
        /** DEBUG_LOG: keep a boot log on the client. */
        debugLog: z.boolean().optional(),
        /** NAT: on a dual-NIC server, masquerade the clients ([server] section). */
        nat: z.boolean().optional(),
        /** INCLUDE: parameters of another named section. */
        include: z
            .string()
            .regex(/^[A-Za-z0-9_-]+$/, "is not a section name")
            .optional(),
        /** Other parameters, KEY=VALUE; keys are ltsp.conf names such as X_MODES or FSTAB_HOME. */
        extra: z.record(ltspPlainKey, shellSafeValue).optional(),
        /**
         * Commands LTSP runs on the clients (POST_INIT_x, PRE_LOGIN_x, CRONTAB_x, ...): any shell
         * on one line, written single-quoted so that it reaches the client exactly as given.
         */
        commands: z.record(ltspCommandKey, ltspCommand).optional(),
    })
    .strict();

export type LtspConfSection = z.infer<typeof ltspConfSectionSchema>;

/** Typed field -> ltsp.conf parameter, in the order they are written. */
export const DIRECTIVES: ReadonlyArray<[keyof Omit<LtspConfSection, "extra" | "commands">, string]> = [
    ["server", "SERVER"],
    ["hostname", "HOSTNAME"],
    ["defaultImage", "DEFAULT_IMAGE"],
    ["menuTimeout", "MENU_TIMEOUT"],
    ["kernelParameters", "KERNEL_PARAMETERS"],
    ["dnsServers", "DNS_SERVER"],
    ["searchDomain", "SEARCH_DOMAIN"],
    ["imageToRam", "IMAGE_TO_RAM"],
    ["localSwap", "LOCAL_SWAP"],
    ["autologin", "AUTOLOGIN"],
    ["relogin", "RELOGIN"],
    ["debugShell", "DEBUG_SHELL"],
    ["debugLog", "DEBUG_LOG"],
    ["nat", "NAT"],
    ["include", "INCLUDE"],
];

/** The parameters that have a typed field: `extra` may not set them again. */
export const TYPED_KEYS: ReadonlySet<string> = new Set(DIRECTIVES.map(([, key]) => key));

/** The value as ltsp.conf shell: double quotes, so a plain $VARIABLE still expands as LTSP documents. */
function quote(value: string): string {
    return `"${value.replace(/"/g, '\\"')}"`;
}

/** A command as ltsp.conf shell: single quotes keep every character as given. */
function singleQuote(value: string): string {
    return `'${value.replace(/'/g, "'\\''")}'`;
}

export function sectionLines(section: LtspConfSection): string[] {
    const lines: string[] = [];
    for (const [field, key] of DIRECTIVES) {
        const value = section[field];
        if (value === undefined) continue;
        if (typeof value === "boolean") lines.push(`${key}=${value ? 1 : 0}`);
        else if (typeof value === "number") lines.push(`${key}=${value}`);
        else if (Array.isArray(value)) lines.push(`${key}=${quote(value.join(" "))}`);
        else lines.push(`${key}=${quote(value)}`);
    }
    for (const key of Object.keys(section.extra ?? {}).sort()) {
        lines.push(`${key}=${quote(section.extra![key])}`);
    }
    for (const key of Object.keys(section.commands ?? {}).sort()) {
        lines.push(`${key}=${singleQuote(section.commands![key])}`);
    }
    return lines;
}

/** One line of ltsp.conf that counts (not blank, not a comment), trimmed, with its line number. */
export interface LtspConfLine {
    text: string;
    line: number;
}

/**
 * ltsp.conf(5) by section: each [header]'s name (lower case, as LTSP matches it) -> its lines in
 * order. Lines before the first header are under "". Reading only: what a line means is the
 * caller's (adopt reads assignments, the report compares sections).
 */
export function ltspConfLines(text: string): Map<string, LtspConfLine[]> {
    const sections = new Map<string, LtspConfLine[]>();
    let current = "";
    text.split("\n").forEach((raw, i) => {
        const line = raw.trim();
        if (!line || line.startsWith("#")) return;
        const header = /^\[([^\]]+)\]$/.exec(line);
        if (header) current = header[1].toLowerCase();
        if (!sections.has(current)) sections.set(current, []);
        if (!header) sections.get(current)!.push({ text: line, line: i + 1 });
    });
    return sections;
}

export interface NamedSection {
    /** server, common, clients, a MAC address, or a name INCLUDEd elsewhere. */
    name: string;
    section: LtspConfSection;
}

/** Where LTSP 23 reads its configuration. */
export const LTSP_CONF = "/etc/ltsp/ltsp.conf";

export function renderLtspConf(resource: string, sections: readonly NamedSection[]): string {
    return renderTemplate("ltsp.conf", {
        path: LTSP_CONF,
        resource,
        sections: sections.map(({ name, section }) => ({ name, lines: sectionLines(section) })),
    });
}

/** The client's [MAC] section of ltsp.conf (LTSP also writes it into the iPXE menu). */
export function nodeSection(node: NodeSpec): NamedSection {
    return {
        name: node.mac,
        section: {
            hostname: node.hostname,
            defaultImage: node.image,
            ...(node.kernelParameters !== undefined ? { kernelParameters: node.kernelParameters } : {}),
            ...(node.menuTimeout !== undefined ? { menuTimeout: node.menuTimeout } : {}),
            ...(Object.keys(node.ltspConf).length ? { extra: node.ltspConf } : {}),
        },
    };
}
