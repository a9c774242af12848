import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LDMINFOD_SCRIPT, ldminfodUnits } from "../balance/units";
import { parseSubnet } from "../core/fields";
import { APT_PROXY_CONF } from "../core/hostPaths";
import { stackOf } from "../core/ownership";
import { sha256Hex } from "../core/sha256";
import { SSH_SERVICE, SSHD_CHECK } from "../core/sshd";
import { type ManagedFile, planFile, planReleases, planService } from "../engine/managedFiles";
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
export const UNIT_DIR = "/etc/systemd/system";
export const LDMINFOD_SOCKET = "ldminfod.socket";
export const SERVICES = [SSH_SERVICE, LDMINFOD_SOCKET];

/**
 * openssh-server for the sessions, xauth for X11 forwarding (sshd refuses to forward without it),
 * libpam-systemd so every ssh login is a logind session (what `loginctl`, ldminfod and the site
 * count; the lab's minimal hosts lack it).
 */
export const BASE_PACKAGES = ["openssh-server", "xauth", "libpam-systemd"];

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
        unitDir: UNIT_DIR,
    });
    for (const [name, content] of Object.entries(units)) files.push(desired(`${UNIT_DIR}/${name}`, content));
    for (const user of spec.users) {
        if (!user.authorizedKeys.length) continue;
        const content = `# managed by netboot (${resource}). \`pulumi up\` reverts hand edits.\n${user.authorizedKeys.join("\n")}\n`;
        files.push(desired(`${homeOf(user, spec.homeBase)}/.ssh/authorized_keys`, content, "0600", `${user.name}:${user.name}`));
    }
    return files;
}

/** Where the accounts this project created are marked: OWNED_ACCOUNTS/NAME/.owner holds the owner and the uid. */
export const OWNED_ACCOUNTS = "/var/lib/netboot/owned/account";

/** The uids of regular users (Debian's adduser.conf FIRST_UID..LAST_UID); anything else is a system account. */
export const FIRST_UID = 1000;
export const LAST_UID = 59999;

/**
 * A user as observed: absent, or its passwd fields, the SHA-256 of its shadow password field,
 * whether that field is locked ("!" or "*" first), and the mark this project left when it created
 * the account (owner and uid; null when there is none).
 */
export type ObservedUser =
    | { exists: false; mark?: AccountMark | null }
    | {
          exists: true;
          uid: number;
          home: string;
          shell: string;
          passwordSha256: string;
          hasHome: boolean;
          locked?: boolean;
          mark?: AccountMark | null;
      };

export interface AccountMark {
    owner: string;
    uid: number | null;
}

/** Every account of the host (name, uid, home): for homes and uids two accounts would share. */
export interface HostAccount {
    name: string;
    uid: number;
    home: string;
}

/** Parses appserver-observe-users.sh's `user` lines. */
export function parseObservedUsers(out: string): Record<string, ObservedUser> {
    const users: Record<string, ObservedUser> = {};
    for (const line of out.split("\n")) {
        const f = line.split("\t");
        if (f[0] !== "user") continue;
        users[f[1]] =
            f[2] === "-" || f[2] === undefined
                ? { exists: false }
                : {
                      exists: true,
                      uid: Number(f[2]),
                      home: f[3],
                      shell: f[4],
                      passwordSha256: f[5],
                      hasHome: f[6] === "1",
                      locked: f[7] === "1",
                      mark: f[8] && f[8] !== "-" ? { owner: f[8], uid: /^\d+$/.test(f[9] ?? "") ? Number(f[9]) : null } : null,
                  };
    }
    return users;
}

/** The `account` lines of appserver-observe-users.sh (every passwd entry). */
export function parseHostAccounts(out: string): HostAccount[] {
    return out
        .split("\n")
        .map((line) => line.split("\t"))
        .filter((f) => f[0] === "account" && f.length >= 4)
        .map((f) => ({ name: f[1], uid: Number(f[2]), home: f[3] }));
}

/** Why a user needs the users step, or undefined when it is as wanted. */
export function userDrift(user: AppServerUser, hash: string | undefined, observed: ObservedUser | undefined, homeBase = "/home"): string | undefined {
    if (!observed?.exists) return "missing";
    if (user.uid !== undefined && observed.uid !== user.uid) return `uid is ${observed.uid}`;
    if (observed.home !== homeOf(user, homeBase)) return `home is ${observed.home}`;
    if (!observed.hasHome) return "home directory missing";
    if (observed.shell !== user.shell) return `shell is ${observed.shell}`;
    if (hash !== undefined && observed.passwordSha256 !== sha256Hex(hash)) return "password differs";
    return undefined;
}

/**
 * The users step's stdin: one tab-separated line per user (appserver-users.sh): name, uid, home,
 * shell, the password (a hash; "-" leaves it; "!" locks the account), and 1 when the account is
 * this resource's (created now, or before: its mark is written when missing).
 */
export function usersInput(
    users: readonly AppServerUser[],
    hashes: Record<string, string>,
    homeBase = "/home",
    locks: readonly string[] = [],
    owned: readonly string[] = users.map((u) => u.name),
): string {
    return users
        .map((u) => {
            const password = hashes[u.name] ?? (locks.includes(u.name) ? "!" : "-");
            return `${[u.name, u.uid ?? "-", homeOf(u, homeBase), u.shell, password, owned.includes(u.name) ? "1" : "0"].join("\t")}\n`;
        })
        .join("");
}

/** What an AppServer records about the accounts it manages (kept in Pulumi state). */
export interface AccountRecord {
    /** Accounts this resource created (marked on the host): delete removes them, and an update those removed from the config. */
    createdUsers: string[];
    /** Accounts that were there before and are listed: their password and shell are managed; never removed. */
    adoptedUsers: string[];
    /** Users whose password this resource set: one whose password leaves the config is locked. */
    passwordUsers: string[];
}

export const NO_ACCOUNTS: AccountRecord = { createdUsers: [], adoptedUsers: [], passwordUsers: [] };

export interface AccountPlan {
    /** One line each, naming the field and its value: nothing may run while there is one. */
    refusals: string[];
    steps: Step[];
    /** Users of the config that are (or are about to be) this resource's own. */
    owned: string[];
    /** Users of the config that existed before and are not this resource's. */
    adopted: string[];
    /** Users removed from the config that stay (not marked as this resource's on the host), with why. */
    kept: string[];
}

function within(path: string, dir: string): boolean {
    return path === dir || path.startsWith(`${dir}/`);
}

/**
 * The accounts half of the plan, from what was observed: refusals first (a system account, an
 * account another resource created, an existing account's home outside the home base or one that
 * another account has, a uid another account has or the account does not have), then the
 * accounts to remove (created by this resource, marked so on the host, and no longer listed), and
 * the users step (create and mark, update, set or lock passwords).
 */
export function planAccounts(
    spec: Pick<AppServerSpec, "users" | "passwords" | "homeBase" | "removeHomesOnDelete">,
    users: Record<string, ObservedUser>,
    accounts: readonly HostAccount[],
    previous: AccountRecord,
    owner: string,
): AccountPlan {
    const refusals: string[] = [];
    const owned: string[] = [];
    const adopted: string[] = [];
    const locks: string[] = [];
    const drift: string[] = [];
    const names = new Set(spec.users.map((u) => u.name));
    // An account another resource of this stack created passes to this one (a renamed AppServer: its
    // create comes before the old one's delete, which then finds the mark is no longer its own).
    const sameStack = (o: ObservedUser) => o.exists && !!o.mark && stackOf(o.mark.owner) === stackOf(owner) && o.mark.uid === o.uid;
    const isOurs = (name: string, o: ObservedUser | undefined) =>
        o?.exists === true && (sameStack(o) || (!o.mark && previous.createdUsers.includes(name)));

    spec.users.forEach((user, i) => {
        const field = `users.${i}`;
        const o = users[user.name];
        const home = homeOf(user, spec.homeBase);
        const sharer = accounts.find(
            (a) =>
                a.name !== user.name && within(a.home, spec.homeBase) && a.home !== spec.homeBase && (within(a.home, home) || within(home, a.home)),
        );
        if (sharer)
            refusals.push(
                `${field}.home: "${home}" is the home of the existing account "${sharer.name}" (${sharer.home}): two users never share a home`,
            );
        if (user.uid !== undefined) {
            const other = accounts.find((a) => a.uid === user.uid && a.name !== user.name);
            if (other) refusals.push(`${field}.uid: ${user.uid} is the uid of the existing account "${other.name}"`);
        }
        if (!o?.exists) {
            owned.push(user.name);
            drift.push(`${user.name} (missing)`);
            return;
        }
        if (o.uid < FIRST_UID || o.uid > LAST_UID) {
            refusals.push(`${field}.name: "${user.name}" is a system account (uid ${o.uid}), not a user this server may manage`);
            return;
        }
        if (o.mark && stackOf(o.mark.owner) !== stackOf(owner) && o.mark.uid === o.uid) {
            refusals.push(`${field}.name: "${user.name}" is an account of ${o.mark.owner}, not of ${owner}`);
            return;
        }
        if (user.uid !== undefined && o.uid !== user.uid) {
            refusals.push(
                `${field}.uid: ${user.uid} is not the uid of the existing account "${user.name}" (${o.uid}): change it by hand (its files carry the old uid)`,
            );
        }
        const ours = isOurs(user.name, o);
        if (ours) owned.push(user.name);
        else {
            if (!within(o.home, spec.homeBase) || o.home === spec.homeBase)
                refusals.push(`${field}.name: "${user.name}" exists with its home at "${o.home}", outside the home base ${spec.homeBase}`);
            adopted.push(user.name);
        }
        const hash = spec.passwords[user.name];
        const lock = hash === undefined && previous.passwordUsers.includes(user.name) && o.locked !== true;
        if (lock) locks.push(user.name);
        const reason =
            userDrift(user, hash, o, spec.homeBase) ??
            (lock ? "password removed: lock" : undefined) ??
            (ours && !(o.mark?.owner === owner && o.mark.uid === o.uid) ? "not marked" : undefined);
        if (reason) drift.push(`${user.name} (${reason})`);
    });

    const steps: Step[] = [];
    const removed: string[] = [];
    const kept: string[] = [];
    for (const name of previous.createdUsers) {
        if (names.has(name)) continue;
        const o = users[name];
        if (!o?.exists) continue;
        if (o.uid < FIRST_UID || o.uid > LAST_UID) kept.push(`${name} (a system account, uid ${o.uid})`);
        else if (o.mark?.owner !== owner || o.mark.uid !== o.uid) kept.push(`${name} (not marked as created by ${owner} on the host)`);
        else removed.push(name);
    }
    // An adopted account that left the config is never removed; with a password this resource set, it is locked.
    const unlisted = previous.adoptedUsers.filter((name) => {
        const o = users[name];
        return !names.has(name) && previous.passwordUsers.includes(name) && o?.exists === true && o.locked !== true;
    });
    if (refusals.length) return { refusals, steps: [], owned, adopted, kept };
    if (removed.length) {
        steps.push({
            kind: "run",
            what: `remove users ${removed.join(" ")}${spec.removeHomesOnDelete ? " and their homes" : ""}`,
            script: "appserver-remove-users",
            args: [owner, spec.removeHomesOnDelete ? "1" : "0", spec.homeBase, ...removed],
            why: "removed from the config",
        });
    }
    if (unlisted.length) {
        steps.push({
            kind: "run",
            what: `lock users ${unlisted.join(" ")}`,
            script: "appserver-lock-users",
            args: unlisted,
            why: "adopted, removed from the config with the password set here",
        });
    }
    if (drift.length) {
        steps.push({
            kind: "run",
            what: `users ${drift.join(", ")}`,
            script: "appserver-users",
            args: [owner],
            stdin: usersInput(spec.users, spec.passwords, spec.homeBase, locks, owned),
            why: "users differ",
        });
    }
    return { refusals, steps, owned, adopted, kept };
}

/** The one-line-per-refusal error that stops an apply before it changes anything. */
export function refusalError(resource: string, refusals: readonly string[]): Error {
    return new Error(`${resource}: refused, nothing was changed:\n${refusals.map((r) => `  ${r}`).join("\n")}`);
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
    accounts: { hostAccounts: readonly HostAccount[]; previous: AccountRecord; owner: string } = {
        hostAccounts: [],
        previous: NO_ACCOUNTS,
        owner: "",
    },
): Step[] {
    const steps: Step[] = [];
    const changed = (path: string) => {
        const file = files.find((f) => f.path === path);
        return file !== undefined && observed.files[path] !== file.sha256;
    };
    const write = (file: AppServerFile, extra: Pick<ManagedFile, "check" | "reload" | "confineTo"> = {}) => {
        const { owner, ...plain } = file;
        steps.push(...planFile({ file: plain, owner, ...extra }, observed));
    };
    const byPath = (path: string) => files.find((f) => f.path === path);

    const proxy = byPath(APT_PROXY_CONF);
    if (proxy) write(proxy);
    const missing = packages.filter((p) => observed.packages[p] == null);
    if (missing.length) steps.push({ kind: "install", packages: missing, aptProxy: spec.aptProxy, why: "not installed" });

    write(byPath(SSHD_DROPIN)!, { check: SSHD_CHECK, reload: [SSH_SERVICE] });

    const plan = planAccounts(spec, users, accounts.hostAccounts, accounts.previous, accounts.owner);
    if (plan.refusals.length) throw refusalError(accounts.owner, plan.refusals);
    steps.push(...plan.steps);
    for (const user of spec.users) {
        // The key file stays inside its user's home: a link the pupil made there cannot lead the write out.
        const keys = byPath(`${homeOf(user, spec.homeBase)}/.ssh/authorized_keys`);
        if (keys) write(keys, { confineTo: homeOf(user, spec.homeBase) });
    }

    const unitFiles = files.filter((f) => f.path === LDMINFOD_SCRIPT || f.path.startsWith(`${UNIT_DIR}/ldminfod`));
    const unitsChanged = unitFiles.some((f) => changed(f.path));
    for (const f of unitFiles) write(f);

    steps.push(
        ...planReleases(
            managed,
            files.map((f) => f.path),
            (path) => (path === SSHD_DROPIN ? [SSH_SERVICE] : undefined),
        ),
    );

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
    // Debian's ssh.service kills only the listener on restart (KillMode=process): open sessions, ours included, stay.
    steps.push(...planService(SSH_SERVICE, observed.services[SSH_SERVICE], changed(SSHD_DROPIN), missing.includes("openssh-server")));
    return steps;
}
