import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LDMINFOD_SCRIPT, ldminfodUnits } from "../balance/units";
import { parseSubnet } from "../core/fields";
import { sha256Hex } from "../core/sha256";
import type { DesiredFile, ManagedFileRecord, Step } from "../engine/steps";
import type { HostObservation } from "../host/observe";
import { renderTemplate } from "../render/templates";
import { type AppServerSpec, type AppServerUser, homeOf } from "./spec";

/**
 * The pure half of AppServer: what an application server should have (files, packages, users,
 * services) and the least work that gets it there from what was observed. Only converge (the
 * engine) and appServerApply.ts talk to the host.
 */

/** sshd's drop-in directory, which Debian's sshd_config includes before its own settings. */
export const SSHD_DROPIN = "/etc/ssh/sshd_config.d/netboot-sessions.conf";
export const APT_PROXY_CONF = "/etc/apt/apt.conf.d/01netboot-proxy";
export const UNIT_DIR = "/etc/systemd/system";
export const LDMINFOD_SOCKET = "ldminfod.socket";
/** Debian's unit for sshd. */
export const SSH_SERVICE = "ssh";
export const SERVICES = [SSH_SERVICE, LDMINFOD_SOCKET];

/**
 * openssh-server for the sessions, xauth for X11 forwarding (sshd refuses to forward without it),
 * libpam-systemd so every ssh login is a logind session (what `loginctl`, ldminfod and the site
 * count; the lab's minimal hosts lack it).
 */
export const BASE_PACKAGES = ["openssh-server", "xauth", "libpam-systemd"];

/** sshd's own check of a candidate drop-in (host keys and /run/sshd are the server's). */
export const SSHD_CHECK = 'sshd -t -f "$1"';

/** lib/balance/ldminfod.sh, installed as it is. */
const LDMINFOD_SOURCE = join(__dirname, "..", "balance", "ldminfod.sh");

export interface AppServerFile extends DesiredFile {
    /** user:group; absent is root. */
    owner?: string;
}

function desired(path: string, content: string, mode = "0644", owner?: string): AppServerFile {
    return { path, content, mode, sha256: sha256Hex(content), ...(owner ? { owner } : {}) };
}

export function appServerPackages(spec: Pick<AppServerSpec, "extraPackages">): string[] {
    return [...new Set([...BASE_PACKAGES, ...spec.extraPackages])];
}

/** Every file this server manages, rendered from templates/ (and ldminfod.sh as it is). */
export function renderAppServerFiles(spec: AppServerSpec, resource: string): AppServerFile[] {
    const files: AppServerFile[] = [];
    if (spec.aptProxy) {
        files.push(desired(APT_PROXY_CONF, renderTemplate("apt-proxy.conf", { path: APT_PROXY_CONF, resource, proxy: spec.aptProxy })));
    }
    // The thin clients are on the LAN: passwords and ldminfod for that subnet only.
    const subnet = parseSubnet(spec.lan.address)!;
    const network = `${subnet.network}/${subnet.prefix}`;
    files.push(desired(SSHD_DROPIN, renderTemplate("sshd-sessions.conf", { path: SSHD_DROPIN, resource, network })));
    files.push(desired(LDMINFOD_SCRIPT, readFileSync(LDMINFOD_SOURCE, "utf8"), "0755"));
    const units = ldminfodUnits({
        resource,
        address: subnet.address,
        network,
        port: spec.ldminfod.port,
        sessionsPerCore: spec.ldminfod.sessionsPerCore,
    });
    for (const [name, content] of Object.entries(units)) files.push(desired(`${UNIT_DIR}/${name}`, content));
    for (const user of spec.users) {
        if (!user.authorizedKeys.length) continue;
        const content = `# managed by netboot (${resource}). \`pulumi up\` reverts hand edits.\n${user.authorizedKeys.join("\n")}\n`;
        files.push(desired(`${homeOf(user)}/.ssh/authorized_keys`, content, "0600", `${user.name}:${user.name}`));
    }
    return files;
}

/** A user as observed: absent, or its passwd fields and the SHA-256 of its shadow password field. */
export type ObservedUser = { exists: false } | { exists: true; uid: number; home: string; shell: string; passwordSha256: string; hasHome: boolean };

/** Parses appserver-observe-users.sh. */
export function parseObservedUsers(out: string): Record<string, ObservedUser> {
    const users: Record<string, ObservedUser> = {};
    for (const line of out.split("\n")) {
        const f = line.split("\t");
        if (f[0] !== "user") continue;
        users[f[1]] =
            f[2] === "-" || f[2] === undefined
                ? { exists: false }
                : { exists: true, uid: Number(f[2]), home: f[3], shell: f[4], passwordSha256: f[5], hasHome: f[6] === "1" };
    }
    return users;
}

/** Why a user needs the users step, or undefined when it is as wanted. */
export function userDrift(user: AppServerUser, hash: string | undefined, observed: ObservedUser | undefined): string | undefined {
    if (!observed?.exists) return "missing";
    if (user.uid !== undefined && observed.uid !== user.uid) return `uid is ${observed.uid}`;
    if (observed.home !== homeOf(user)) return `home is ${observed.home}`;
    if (!observed.hasHome) return "home directory missing";
    if (observed.shell !== user.shell) return `shell is ${observed.shell}`;
    if (hash !== undefined && observed.passwordSha256 !== sha256Hex(hash)) return "password differs";
    return undefined;
}

/** The users step's stdin: one tab-separated line per user (appserver-users.sh). */
export function usersInput(users: readonly AppServerUser[], hashes: Record<string, string>): string {
    return users.map((u) => `${[u.name, u.uid ?? "-", homeOf(u), u.shell, hashes[u.name] ?? "-"].join("\t")}\n`).join("");
}

/** What to look at on the host before planning. */
export function observationFor(files: readonly AppServerFile[], managed: Record<string, ManagedFileRecord>, packages: readonly string[]) {
    return { files: [...new Set([...files.map((f) => f.path), ...Object.keys(managed)])], services: SERVICES, packages };
}

/**
 * The least work that makes the server match: the proxy, missing packages, the sshd drop-in
 * (sshd's own check first), the users that differ (one step, hashes on stdin), their keys,
 * ldminfod's files, and restarts only where a config changed or a service is down.
 */
export function planAppServer(
    spec: AppServerSpec,
    files: readonly AppServerFile[],
    packages: readonly string[],
    managed: Record<string, ManagedFileRecord>,
    observed: HostObservation,
    users: Record<string, ObservedUser>,
): Step[] {
    const steps: Step[] = [];
    const changed = (path: string) => {
        const file = files.find((f) => f.path === path);
        return file !== undefined && observed.files[path] !== file.sha256;
    };
    const why = (path: string) => (observed.files[path] === null || observed.files[path] === undefined ? "missing" : "content differs");
    const write = (file: AppServerFile, extra: Partial<Extract<Step, { kind: "write" }>> = {}) => {
        if (!changed(file.path)) return;
        const { owner, ...plain } = file;
        steps.push({ kind: "write", file: plain, ...(owner ? { owner } : {}), ...extra, why: why(file.path) });
    };
    const byPath = (path: string) => files.find((f) => f.path === path);

    const proxy = byPath(APT_PROXY_CONF);
    if (proxy) write(proxy);
    const missing = packages.filter((p) => observed.packages[p] == null);
    if (missing.length) steps.push({ kind: "install", packages: missing, aptProxy: spec.aptProxy, why: "not installed" });

    write(byPath(SSHD_DROPIN)!, { check: SSHD_CHECK, reload: [SSH_SERVICE] });

    const drift = spec.users.flatMap((u) => {
        const reason = userDrift(u, spec.passwords[u.name], users[u.name]);
        return reason ? [`${u.name} (${reason})`] : [];
    });
    if (drift.length) {
        steps.push({
            kind: "run",
            what: `users ${drift.join(", ")}`,
            script: "appserver-users",
            args: [],
            stdin: usersInput(spec.users, spec.passwords),
            why: "users differ",
        });
    }
    for (const user of spec.users) {
        const keys = byPath(`${homeOf(user)}/.ssh/authorized_keys`);
        if (keys) write(keys);
    }

    const unitFiles = files.filter((f) => f.path === LDMINFOD_SCRIPT || f.path.startsWith(`${UNIT_DIR}/ldminfod`));
    const unitsChanged = unitFiles.some((f) => changed(f.path));
    for (const f of unitFiles) write(f);

    for (const path of Object.keys(managed)) {
        if (files.some((f) => f.path === path)) continue;
        steps.push(
            path === SSHD_DROPIN
                ? { kind: "release", path, reload: [SSH_SERVICE], why: "no longer managed" }
                : { kind: "release", path, why: "no longer managed" },
        );
    }

    const socket = observed.services[LDMINFOD_SOCKET] ?? { active: "unknown", enabled: "unknown" };
    if (unitsChanged || socket.active !== "active" || socket.enabled !== "enabled") {
        steps.push({
            kind: "run",
            what: `start ${LDMINFOD_SOCKET}`,
            script: "ldminfod-enable",
            args: [LDMINFOD_SOCKET],
            why: unitsChanged ? "its units changed" : `socket is ${socket.active}/${socket.enabled}`,
        });
    }
    const ssh = observed.services[SSH_SERVICE] ?? { active: "unknown", enabled: "unknown" };
    // Debian's ssh.service kills only the listener on restart (KillMode=process): open sessions, ours included, stay.
    if (changed(SSHD_DROPIN) || ssh.active !== "active" || missing.includes("openssh-server")) {
        steps.push({ kind: "restart", service: SSH_SERVICE, why: changed(SSHD_DROPIN) ? "config changed" : `service is ${ssh.active}` });
    }
    if (ssh.enabled !== "enabled" && !missing.includes("openssh-server"))
        steps.push({ kind: "enable", service: SSH_SERVICE, why: `service is ${ssh.enabled}` });
    return steps;
}
