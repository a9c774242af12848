import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_SCRIPT_DIR } from "../balance/ltspConf";
import { type BalanceInput, validateBalance } from "../balance/spec";
import { renderTemplate } from "../render/templates";

/**
 * The pure parts of the school site (stacks/school.ts): the balance config as lib/balance reads
 * it, its failures named by the stack's config keys, and what the thin-client image gets.
 */

/** An application server as the school config names it (its SSH connection is the stack's business). */
export interface SchoolAppServer {
    name: string;
    /** Where the thin clients reach it (its address on the clients' LAN). */
    address: string;
    cores: number;
    memoryMb?: number;
    weight?: number;
    maxSessions?: number;
}

/** netboot:balance without the servers, which come from netboot:appServers. */
export type SchoolBalance = Omit<BalanceInput, "servers">;

export function balanceInput(balance: SchoolBalance, appServers: readonly SchoolAppServer[]): BalanceInput {
    return {
        ...balance,
        servers: appServers.map((s) => ({
            name: s.name,
            address: s.address,
            cores: s.cores,
            ...(s.memoryMb !== undefined ? { memoryMb: s.memoryMb } : {}),
            ...(s.weight !== undefined ? { weight: s.weight } : {}),
            ...(s.maxSessions !== undefined ? { maxSessions: s.maxSessions } : {}),
        })),
    } as BalanceInput;
}

/** `servers.3.weight: ...` -> `netboot:appServers[3].weight: ...`; anything else -> `netboot:balance.policy: ...`. */
export function configKeyOf(reason: string): string {
    if (/^servers\.\d+/.test(reason)) return reason.replace(/^servers\.(\d+)/, "netboot:appServers[$1]");
    if (reason.startsWith("servers:")) return `netboot:appServers${reason.slice("servers".length)}`;
    return `netboot:balance.${reason}`;
}

/** Every problem of the site's balance config against its clients, each naming its config key; empty when fine. */
export function schoolBalanceFailures(balance: SchoolBalance, appServers: readonly SchoolAppServer[], clientMacs: readonly string[]): string[] {
    const validated = validateBalance(balanceInput(balance, appServers), clientMacs);
    return validated.ok ? [] : validated.failures.map((f) => configKeyOf(f.reason));
}

/** How a thin client starts its session. */
export interface SessionConfig {
    /** The command, one argument per entry; "{server}" is the chosen server (appended when absent). */
    command: string[];
    /** Log this local user in on this console at boot and start the session (a kiosk, or a test). */
    autologin?: { user: string; console: string };
}

/** Where the thin-client image keeps the application servers' pinned host keys (ssh's system-wide file). */
export const KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts";
/** The image's ssh client settings that make the pinned keys the only ones trusted. */
export const SSH_PIN_CONF = "/etc/ssh/ssh_config.d/netboot-pin.conf";

/**
 * The image's /etc/ssh/ssh_known_hosts: each application server's host keys (AppServer
 * `hostKeys`, "TYPE BASE64") under the address the clients connect to, servers in config order.
 */
export function knownHostsFile(servers: readonly { address: string; hostKeys: readonly string[] }[], resource: string): string {
    const lines = servers.flatMap((s) => s.hostKeys.map((key) => `${s.address} ${key}`));
    return renderTemplate("etc/ssh/ssh_known_hosts", { path: KNOWN_HOSTS, resource, lines });
}

/** Packages the chooser needs on the client: nc to ask ldminfod, ssh and xauth for `ssh -X`. */
export const CLIENT_PACKAGES = ["netcat-openbsd", "openssh-client", "xauth"];

const BALANCE_DIR = join(__dirname, "..", "balance");

/**
 * What the school adds to the thin-client image: the chooser, the boot hook, the session and its
 * autologin (files, and commands run in the chroot after them).
 */
export function clientImageFiles(session: SessionConfig, resource: string): { files: Record<string, string>; postInstall: string[] } {
    const dir = CLIENT_SCRIPT_DIR;
    const files: Record<string, string> = {
        [`${dir}/chooser.sh`]: readFileSync(join(BALANCE_DIR, "chooser.sh"), "utf8"),
        [`${dir}/balance-env.sh`]: readFileSync(join(BALANCE_DIR, "balance-env.sh"), "utf8"),
        [`${dir}/remote-login.sh`]: readFileSync(join(__dirname, "remote-login.sh"), "utf8"),
        [`${dir}/session.sh`]: renderTemplate("school-session.sh", { path: `${dir}/session.sh`, resource, scriptDir: dir, command: session.command }),
        [SSH_PIN_CONF]: renderTemplate("etc/ssh/ssh_config.d/netboot-pin.conf", { path: SSH_PIN_CONF, resource, knownHosts: KNOWN_HOSTS }),
    };
    const postInstall: string[] = [];
    if (session.autologin) {
        const { user, console } = session.autologin;
        const getty = /^tty\d+$/.test(console) ? "getty" : "serial-getty";
        // The getty's drop-in directory has an "@" in its name, which image file paths may not: copied in the chroot.
        const dropinDir = `/etc/systemd/system/${getty}@${console}.service.d`;
        const staged = `${dir}/getty-autologin.conf`;
        files[staged] = renderTemplate("school-autologin.conf", { path: `${dropinDir}/netboot-autologin.conf`, resource, user });
        postInstall.push(`mkdir -p ${dropinDir} && cp ${staged} ${dropinDir}/netboot-autologin.conf`);
        const profile = "/etc/profile.d/zz-netboot-session.sh";
        files[profile] = renderTemplate("school-session-profile.sh", { path: profile, resource, user, console, scriptDir: dir });
    }
    return { files, postInstall };
}
