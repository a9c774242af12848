import { SSH_SERVICE } from "../core/sshd";
import { converge, journalFor, recoverInterrupted, restoreOriginal } from "../engine/converge";
import type { Host } from "../engine/host";
import type { ManagedFileRecord } from "../engine/steps";
import { observeHost, type ServiceState } from "../host/observe";
import { progress } from "../provider/progress";
import { remoteScript } from "../remote/scripts";
import {
    type AccountRecord,
    appServerPackages,
    type HostAccount,
    LDMINFOD_SOCKET,
    type ObservedUser,
    observationFor,
    parseHostAccounts,
    parseObservedUsers,
    planAccounts,
    planAppServer,
    refusalError,
    renderAppServerFiles,
    SERVICES,
    SSHD_DROPIN,
} from "./plan";
import type { AppServerSpec } from "./spec";

/** What an AppServer remembers between runs, besides its inputs (AccountRecord: created, adopted users, passwords set). */
export interface AppServerRecord extends AccountRecord {
    managedFiles: Record<string, ManagedFileRecord>;
    /** Packages this resource installed: purged on delete only when asked. */
    installedPackages: string[];
}

/** What an AppServer reports besides its inputs. */
export interface AppServerState extends AppServerRecord {
    services: Record<string, ServiceState>;
    /** The users as they are on the server (no password data). */
    presentUsers: string[];
    /** How many steps the last apply ran (0: the server already matched). */
    steps: number;
    /** Its SSH host public keys ("TYPE BASE64"), sorted: what the thin clients pin (lib/school/site.ts). */
    hostKeys: string[];
}

/** The server's SSH host public keys, sorted (appserver-host-keys.sh). */
export async function readHostKeys(host: Host): Promise<string[]> {
    return parseHostKeys(await host.run("read the SSH host keys", remoteScript("appserver-host-keys")));
}

/** "TYPE BASE64" of each line (a comment dropped), known key types only, sorted and unique: anything else is not a key a client could pin. */
export function parseHostKeys(out: string): string[] {
    const keys = out
        .split("\n")
        .map((l) => l.trim().split(/\s+/).slice(0, 2).join(" "))
        .filter((l) => /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*$/.test(l));
    return [...new Set(keys)].sort();
}

/** The named users as they are, and every account of the host (read-only). */
export async function observeAccounts(
    host: Host,
    names: readonly string[],
): Promise<{ users: Record<string, ObservedUser>; accounts: HostAccount[] }> {
    const out = await host.run("observe users", remoteScript("appserver-observe-users"), [...new Set(names)]);
    return { users: parseObservedUsers(out), accounts: parseHostAccounts(out) };
}

export async function observeUsers(host: Host, names: readonly string[]) {
    if (!names.length) return {};
    return (await observeAccounts(host, names)).users;
}

/** Create and update: observe (read-only), plan, converge; a failed step puts every file back. */
export async function convergeAppServer(
    host: Host,
    spec: AppServerSpec,
    resource: string,
    previous: AppServerRecord,
    reconnect?: () => Promise<Host>,
): Promise<AppServerState> {
    const started = Date.now();
    const names = spec.users.map((u) => u.name);
    // Accounts first: a refused one (a system account, another's, a shared home) stops the apply before anything changes.
    const watched = [...names, ...previous.createdUsers, ...previous.adoptedUsers];
    const before0 = await observeAccounts(host, watched);
    const accounts = planAccounts(spec, before0.users, before0.accounts, previous, resource);
    if (accounts.refusals.length) throw refusalError(resource, accounts.refusals);
    const journal = journalFor(resource);
    const recovered = await recoverInterrupted(host, journal, [SSH_SERVICE]);
    if (recovered.length) progress(`${resource}: restored ${recovered.join(", ")} (an earlier apply was cut off)`, started);
    for (const kept of accounts.kept) progress(`${resource}: kept user ${kept}, though it left the config`, started);
    const files = renderAppServerFiles(spec, resource);
    const packages = appServerPackages(spec);
    const request = observationFor(files, previous.managedFiles, packages);
    const before = await observeHost(host, request);
    const usersBefore = before0.users;
    const steps = planAppServer(spec, files, packages, previous.managedFiles, before, usersBefore, {
        hostAccounts: before0.accounts,
        previous,
        owner: resource,
    });
    const result = await converge(host, steps, {
        journal,
        managed: previous.managedFiles,
        progress: (line) => progress(`${resource}: ${line}`, started),
        reconnect,
        owner: resource,
    });
    const after = steps.length ? await observeHost(host, request) : before;
    const usersAfter = steps.length ? (await observeAccounts(host, watched)).users : usersBefore;
    const marked = (n: string) => {
        const o = usersAfter[n];
        return o?.exists === true && o.mark?.owner === resource && o.mark.uid === o.uid;
    };
    // Created: the listed accounts marked as ours, and those that left the config but are still here and ours (a removal that failed).
    const created = [...new Set([...accounts.owned.filter(marked), ...previous.createdUsers.filter((n) => !names.includes(n) && marked(n))])];
    const withPassword = names.filter((n) => spec.passwords[n] !== undefined);
    return {
        managedFiles: result.managedFiles,
        installedPackages: [...new Set([...previous.installedPackages, ...result.installedPackages])],
        createdUsers: created,
        adoptedUsers: accounts.adopted.filter((n) => usersAfter[n]?.exists),
        // A user still listed stays here after its password left the config: it is kept locked.
        passwordUsers: names.filter((n) => withPassword.includes(n) || previous.passwordUsers.includes(n)),
        services: Object.fromEntries(SERVICES.map((s) => [s, after.services[s]])),
        presentUsers: names.filter((n) => usersAfter[n]?.exists),
        steps: steps.length,
        // After the packages: a fresh openssh-server makes its host keys when it is installed.
        hostKeys: await readHostKeys(host),
    };
}

/** Refresh: what the server really has (hand edits, a stopped socket, a deleted user show as drift). */
export async function readAppServer(host: Host, record: AppServerRecord, spec: Pick<AppServerSpec, "users">): Promise<Partial<AppServerState>> {
    const paths = Object.keys(record.managedFiles);
    const observed = await observeHost(host, { files: paths, services: SERVICES });
    const users = await observeUsers(
        host,
        spec.users.map((u) => u.name),
    );
    const managedFiles: Record<string, ManagedFileRecord> = {};
    for (const path of paths) managedFiles[path] = { ...record.managedFiles[path], sha256: observed.files[path] ?? "missing" };
    return {
        managedFiles,
        services: Object.fromEntries(SERVICES.map((s) => [s, observed.services[s]])),
        presentUsers: spec.users.map((u) => u.name).filter((n) => users[n]?.exists),
        hostKeys: await readHostKeys(host),
    };
}

/**
 * Delete: only what this resource made goes. ldminfod stops, every managed file is put back
 * (or removed when we created it), sshd restarts on the restored config, the users this
 * resource created are removed (their homes only when asked), packages only when asked.
 */
export async function removeAppServer(
    host: Host,
    record: AppServerRecord,
    spec: Pick<AppServerSpec, "removeHomesOnDelete" | "removePackagesOnDelete"> & Partial<Pick<AppServerSpec, "homeBase">>,
    resource: string,
): Promise<string[]> {
    const started = Date.now();
    await host.mutate(`stop ${LDMINFOD_SOCKET}`, remoteScript("ldminfod-remove"), [LDMINFOD_SOCKET]);
    for (const [path, file] of Object.entries(record.managedFiles)) {
        // A key file in the home of a user we remove with its home goes with it.
        progress(`${resource}: ${file.backup ? "restore" : "remove"} ${path}`, started);
        await restoreOriginal(host, path, file, resource);
    }
    await host.mutate("systemd forgets the removed units", remoteScript("daemon-reload"), []);
    if (record.managedFiles[SSHD_DROPIN])
        await host.mutate(`restart ${SSH_SERVICE} without our drop-in`, remoteScript("restart-if-active"), [SSH_SERVICE]);
    // Only the accounts this resource created, and of those only the ones marked so on the host
    // (appserver-remove-users.sh checks the mark and the uid): an adopted account, one that was
    // there before, or a system account stays.
    let kept: string[] = [];
    if (record.createdUsers.length) {
        progress(`${resource}: remove users ${record.createdUsers.join(" ")}${spec.removeHomesOnDelete ? " and their homes" : ""}`, started);
        const out = await host.mutate(`remove users ${record.createdUsers.join(" ")}`, remoteScript("appserver-remove-users"), [
            resource,
            spec.removeHomesOnDelete ? "1" : "0",
            // A state from before homeBase: its homes were under /home.
            spec.homeBase ?? "/home",
            ...record.createdUsers,
        ]);
        kept = out.split("\n").filter((line) => line.startsWith("kept "));
        for (const line of kept) progress(`${resource}: ${line}`, started);
    }
    if (spec.removePackagesOnDelete && record.installedPackages.length) {
        progress(`${resource}: purge ${record.installedPackages.join(" ")}`, started);
        await host.mutate(`apt-get purge ${record.installedPackages.join(" ")}`, remoteScript("purge-packages"), record.installedPackages, {
            timeoutMs: 30 * 60_000,
        });
    }
    return kept;
}
