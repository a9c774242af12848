import ipaddr from "ipaddr.js";
import { z } from "zod";
import { FINGERPRINT_PATTERN, privateKeyProblem } from "./hostKey";

/**
 * Field validators shared by every resource. Each message says what is wrong in words an
 * administrator knows; the failing field and its value are added by `formatIssues`.
 */

export function isIPv4(value: string): boolean {
    return ipaddr.IPv4.isValidFourPartDecimal(value);
}

export interface Subnet {
    /** The address as written, e.g. 10.213.1.1 in 10.213.1.1/24. */
    address: string;
    prefix: number;
    network: string;
    netmask: string;
    broadcast: string;
}

export function parseSubnet(cidr: string): Subnet | undefined {
    const [address, prefixText] = cidr.split("/");
    if (!address || prefixText === undefined || !isIPv4(address) || !/^\d{1,2}$/.test(prefixText)) return undefined;
    const prefix = Number(prefixText);
    if (prefix < 1 || prefix > 30) return undefined;
    return {
        address,
        prefix,
        network: ipaddr.IPv4.networkAddressFromCIDR(cidr).toString(),
        netmask: ipaddr.IPv4.subnetMaskFromPrefixLength(prefix).toString(),
        broadcast: ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString(),
    };
}

export function inSubnet(address: string, subnet: Subnet): boolean {
    return isIPv4(address) && ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parse(subnet.network), subnet.prefix);
}

export function ipv4ToNumber(address: string): number {
    return ipaddr.IPv4.parse(address).octets.reduce((n, octet) => n * 256 + octet, 0);
}

/**
 * Why `address` cannot be a host's address on `subnet`: outside it, or its network or broadcast
 * address (no host can have those); undefined when it can.
 */
export function hostAddressProblem(address: string, subnet: Subnet): string | undefined {
    const where = `${subnet.network}/${subnet.prefix}`;
    if (!inSubnet(address, subnet)) return `is outside the subnet ${where}`;
    if (address === subnet.network) return `is the network address of ${where}, not a host's`;
    if (address === subnet.broadcast) return `is the broadcast address of ${where}, not a host's`;
    return undefined;
}

/** Whether `address` lies in the dynamic range start-end (inclusive). */
export function inRange(address: string, start: string, end: string): boolean {
    const n = ipv4ToNumber(address);
    return n >= ipv4ToNumber(start) && n <= ipv4ToNumber(end);
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export const ipv4 = z.string().refine(isIPv4, "is not an IPv4 address (like 192.168.67.1)");

export const cidr = z.string().refine((v) => parseSubnet(v) !== undefined, "is not an IPv4 address with a prefix length 1-30 (like 192.168.67.1/24)");

/** An http_proxy for apt (and debootstrap), like the site's apt-cacher-ng: http://10.0.0.1:3142. */
export const aptProxyUrl = z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, "is not a proxy URL like http://10.0.0.1:3142");

export const hostOrAddress = z.string().refine((v) => isIPv4(v) || HOSTNAME.test(v), "is neither an IPv4 address nor a valid host name");

export const dnsLabel = z
    .string()
    .refine((v) => DNS_LABEL.test(v), "is not a valid DNS label (letters, digits, '-', 1-63 chars, no leading or trailing '-')");

export const port = z.number().int("is not a whole number").min(1, "is not a TCP port (1-65535)").max(65535, "is not a TCP port (1-65535)");

export const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "is not a valid Unix user name");

export const fingerprint = z
    .string()
    .regex(FINGERPRINT_PATTERN, "is not an OpenSSH SHA256 fingerprint (SHA256: followed by 43 base64 characters, as `ssh-keygen -lf` prints)");

/** A secret: the value never appears in a message. */
export const privateKey = z.string().superRefine((value, ctx) => {
    const problem = privateKeyProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: SECRET_VALUE });
});

export const SECRET_VALUE = Symbol("secret");

export const debianPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "is not a Debian package name");

export const httpUrl = z.string().refine((v) => {
    try {
        const u = new URL(v);
        return (u.protocol === "http:" || u.protocol === "https:") && !/[\s'"\\]/.test(v);
    } catch {
        return false;
    }
}, "is not an http:// or https:// URL");

export const dhcpLeaseTime = z.string().regex(/^(infinite|\d+[smhdw]?)$/, "is not a lease time (seconds, or a number with s/m/h/d/w, or infinite)");

/** Characters that would let a value escape its assignment in ltsp.conf, which clients run as shell. */
const SHELL_UNSAFE = /[`;&|<>\\'(){}\n\r\t\0\x01-\x08\x0b\x0c\x0e-\x1f\x7f]|\$(?![A-Za-z_{])|\$\{(?![A-Za-z_][A-Za-z0-9_]*\})/;

export function shellUnsafeReason(value: string): string | undefined {
    const match = SHELL_UNSAFE.exec(value);
    if (!match) return undefined;
    const ch = match[0];
    const shown = ch === "\n" ? "a newline" : ch === "\r" ? "a carriage return" : /[\x00-\x1f\x7f]/.test(ch) ? "a control character" : `'${ch}'`;
    return `contains ${shown}; ltsp.conf is shell code on every client, so values may not contain newlines, quotes other than ", or any of \` ; & | < > \\ ( ) { } $( (a plain $VARIABLE is allowed)`;
}

export const shellSafeValue = z.string().superRefine((value, ctx) => {
    const reason = shellUnsafeReason(value);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
});

export const ltspConfKey = z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/, "is not an ltsp.conf parameter name (capital letters, digits and _, starting with a letter)");

/**
 * ltsp.conf parameters that LTSP runs as commands on the clients (ltsp.conf(5): PRE_APPLET_x and
 * POST_APPLET_x run before/after that client applet, CRONTAB_x becomes a cron line). They are
 * commands by design, so they have their own field (`commands`) and never slip through `extra`.
 */
export const LTSP_COMMAND_KEY = /^((PRE|POST)_[A-Z0-9]+_[A-Z0-9_]+|CRONTAB_[A-Z0-9_]+)$/;

/**
 * ltsp.conf parameters that hold passwords (ltsp.conf(5): PASSWORDS_x, "user/base64 password" pairs
 * for autologin). `scripts/adopt` never writes their values into a stack file.
 */
export const LTSP_SECRET_KEY = /^PASSWORDS_[A-Za-z0-9_]+$/;

export const ltspCommandKey = z
    .string()
    .regex(
        LTSP_COMMAND_KEY,
        "is not an ltsp.conf command parameter (PRE_<APPLET>_<NAME>, POST_<APPLET>_<NAME> or CRONTAB_<NAME>, e.g. POST_INIT_LN_XORG)",
    );

/** A command line: any shell, one line (ltsp.conf quotes it). */
export const ltspCommand = z.string().refine((v) => !/[\n\r\0]/.test(v), "contains a newline or NUL; give one command per parameter");

/** A plain (non-command) ltsp.conf parameter in `extra`, or a node's own parameters. */
export const ltspPlainKey = ltspConfKey.refine(
    (k) => !LTSP_COMMAND_KEY.test(k),
    "runs as a command on the clients: set it in `commands`, not as a plain parameter",
);

/**
 * What iPXE reads in a script line as something other than text: `;`, `&&` and `||` end a
 * command (the rest runs as another one), `#` starts a comment (the rest is dropped). A value
 * written into the boot menu (a title, kernel parameters) may contain none of them, wherever
 * they stand: the menu would run or drop part of it.
 */
const IPXE_SEPARATOR = /;|&&|\|\||#/;

export function ipxeUnsafeReason(value: string): string | undefined {
    const match = IPXE_SEPARATOR.exec(value);
    if (!match) return undefined;
    return `contains "${match[0]}": iPXE reads ; && || as the end of a command and # as a comment, so the boot menu would run or drop the rest`;
}

/** Text written into one line of the iPXE boot menu. */
export const ipxeSafeValue = z.string().superRefine((value, ctx) => {
    const reason = ipxeUnsafeReason(value);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
});

/** KERNEL_PARAMETERS: written into ltsp.conf (shell on every client) and the boot menu's `set cmdline_client` line (iPXE). */
export const kernelParameters = z.string().superRefine((value, ctx) => {
    const reason = shellUnsafeReason(value) ?? ipxeUnsafeReason(value);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
});

/**
 * Words dnsmasq reads in a `dhcp-host=MAC,IP,NAME` line as something other than a name
 * (dnsmasq(8), --dhcp-host and --dhcp-range): `ignore` (never answer the client), `infinite`
 * and a lease time (seconds, or a number with s, m, h, d or w: 3600, 45m, 12h). `dnsmasq --test`
 * accepts them all; the client gets no name, or no address. (id:, set:, tag: and addresses
 * need ":" or ".", which a host name has not.)
 */
const DNSMASQ_HOST_KEYWORD = /^(ignore|infinite|\d+[smhdw]?)$/i;

export function dnsmasqHostnameReason(name: string): string | undefined {
    if (!DNSMASQ_HOST_KEYWORD.test(name)) return undefined;
    return /^\d+[smhdw]?$/i.test(name)
        ? "reads as a lease time in dnsmasq's dhcp-host line (seconds, or a number with s/m/h/d/w): the client would get no name; add a letter, like pc-12h"
        : `is a dnsmasq dhcp-host keyword (${name.toLowerCase() === "ignore" ? "the client would never get an address" : "a lease time"}); choose another name`;
}

/** A client's host name: a DNS label that dnsmasq's dhcp-host line reads as a name. */
export const clientHostname = dnsLabel.superRefine((name, ctx) => {
    const reason = dnsmasqHostnameReason(name);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
});

/**
 * System locations a resource must never take over as its own directory (a Clonezilla
 * repository, a cluster's shared output, a home): it would change their owner or mode, export
 * them, or delete from them. `itself` entries are refused as they are (a directory below /srv is
 * what a site makes its own); `below` entries hold the OS or another owner's data, so everything
 * under them is refused too. One list: every field that names such a directory checks it.
 */
export const SYSTEM_LOCATIONS = {
    itself: ["/", "/home", "/mnt", "/media", "/srv", "/var", "/var/lib", "/var/cache", "/var/spool"],
    below: [
        "/bin",
        "/boot",
        "/dev",
        "/efi",
        "/etc",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/lost+found",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/snap",
        "/sys",
        "/tmp",
        "/usr",
        // LTSP's images and the TFTP tree the clients boot from (lib/ltsp).
        "/srv/ltsp",
        "/srv/tftp",
        // netboot's own state on the server (journals, image builds).
        "/var/lib/netboot",
        // The package manager's and systemd's state, the logs, the other temporary directory.
        "/var/lib/apt",
        "/var/lib/dpkg",
        "/var/lib/systemd",
        "/var/cache/apt",
        "/var/log",
        "/var/mail",
        "/var/tmp",
        "/var/run",
        "/var/lock",
    ],
} as const;

/** Why `path` (an absolute, normalized path) is a system location, or undefined when it is not one. */
export function systemLocationReason(path: string): string | undefined {
    if ((SYSTEM_LOCATIONS.itself as readonly string[]).includes(path)) {
        return `is a system location (${path} itself); choose a directory of its own below it`;
    }
    const holder = SYSTEM_LOCATIONS.below.find((location) => path === location || path.startsWith(`${location}/`));
    if (holder) return `is a system location (${holder} and everything below it belong to the system); choose a directory of its own, like /srv/NAME`;
    return undefined;
}

/**
 * A directory a resource takes over (creates, chowns, exports, empties): absolute, written
 * plainly (no ".", "..", "//" or trailing "/", which would hide where it really is), and not a
 * system location.
 */
export const ownedDirectory = z.string().superRefine((path, ctx) => {
    if (!/^\/[A-Za-z0-9._+/-]*$/.test(path)) {
        ctx.addIssue({ code: "custom", message: "is not an absolute path of plain characters (letters, digits, . _ + - /)" });
    } else if (
        path !== "/" &&
        (path.endsWith("/") ||
            path
                .split("/")
                .slice(1)
                .some((segment) => segment === "" || segment === "." || segment === ".."))
    ) {
        ctx.addIssue({ code: "custom", message: 'is not a plain path (no ".", "..", "//" or trailing "/"): write the directory it means' });
    } else {
        const reason = systemLocationReason(path);
        if (reason) ctx.addIssue({ code: "custom", message: reason });
    }
});

/**
 * Accounts of the system itself: Debian's static ones (base-passwd's passwd.master, uid < 100),
 * and the services this project or Debian install on a server (their uids are < 1000, which a
 * preview cannot see; their names it can). An account a resource makes for logins is never one.
 */
export const SYSTEM_ACCOUNTS: readonly string[] = [
    // base-passwd (Debian 12)
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    // Services on a boot server (Debian's package users)
    "sshd",
    "messagebus",
    "syslog",
    "dnsmasq",
    "tftp",
    "statd",
    "nbd",
    "munge",
    "slurm",
    "polkitd",
    "avahi",
    "ntp",
    "lightdm",
    "prometheus",
    "colord",
    "pulse",
    "rtkit",
];

/** Why `name` is a system account, or undefined. Names starting with "_" or "systemd-" are Debian's convention for system users. */
export function systemAccountReason(name: string): string | undefined {
    if (SYSTEM_ACCOUNTS.includes(name) || name.startsWith("_") || name.startsWith("systemd-")) {
        return "is a system account: a resource that makes it a login account would take it over (root locks the stack out of its own server); choose an account of its own";
    }
    return undefined;
}

/**
 * Where a site's homes are (an AppServer's homeBase): /home itself is the usual one; anything
 * else that is a system location is refused, as for a directory a resource takes over.
 */
export function homeBaseReason(path: string): string | undefined {
    return path === "/home" ? undefined : systemLocationReason(path);
}

/** An account a resource creates and others log in as over SSH: a valid name, never a system account. */
export const loginAccount = unixUser.superRefine((name, ctx) => {
    const reason = systemAccountReason(name);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
});

/** A failed check: the field (dotted path) and a message that names it and its value. */
export interface CheckFailure {
    property: string;
    reason: string;
}

/** A validation's result: the parsed spec, or every failure found. */
export type Validated<T> = { ok: true; spec: T } | { ok: false; failures: CheckFailure[] };

export function describeValue(value: unknown): string {
    if (value === SECRET_VALUE) return "[secret]";
    if (value === undefined) return "missing";
    const text = JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** zod issues as check failures whose reason reads `field: value is wrong because ...`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], secretPaths: readonly string[] = []): CheckFailure[] {
    return issues.map((issue) => {
        const property = issue.path.map(String).join(".") || "(inputs)";
        const secret = secretPaths.includes(property) || (issue as { input?: unknown }).input === SECRET_VALUE;
        const input = (issue as { input?: unknown }).input;
        let reason: string;
        if (issue.code === "unrecognized_keys") {
            reason = `${property === "(inputs)" ? "" : `${property}: `}unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
        } else if (issue.code === "invalid_type" && input === undefined) {
            reason = `${property}: is required`;
        } else if (issue.code === "invalid_type") {
            reason = `${property}: ${secret ? "[secret]" : describeValue(input)} has the wrong type (${issue.message.replace(/^Invalid input: /, "")})`;
        } else if (issue.code === "invalid_value") {
            reason = `${property}: ${describeValue(input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        } else if (issue.code === "invalid_key") {
            // A record key that failed its own schema: the key's message is the useful one.
            reason = `${property}: ${describeValue(input)} ${issue.issues[0]?.message ?? issue.message}`;
        } else {
            reason = `${property}: ${secret ? "[secret]" : describeValue(input)} ${issue.message}`;
        }
        return { property, reason };
    });
}
