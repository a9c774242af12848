import { converge, journalFor, recoverInterrupted, restoreOriginal } from "../engine/converge";
import type { Host } from "../engine/host";
import type { ManagedFileRecord } from "../engine/steps";
import { observeHost, type ServiceState } from "../host/observe";
import { progress } from "../provider/progress";
import { remoteScript } from "../remote/scripts";
import {
    appServerPackages,
    LDMINFOD_SOCKET,
    observationFor,
    parseObservedUsers,
    planAppServer,
    renderAppServerFiles,
    SERVICES,
    SSH_SERVICE,
    SSHD_DROPIN,
} from "./plan";
import type { AppServerSpec } from "./spec";

/** What an AppServer remembers between runs, besides its inputs. */
export interface AppServerRecord {
    managedFiles: Record<string, ManagedFileRecord>;
    /** Packages this resource installed: purged on delete only when asked. */
    installedPackages: string[];
    /** Users this resource created (not ones that were there before): delete removes them. */
    createdUsers: string[];
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

export async function observeUsers(host: Host, names: readonly string[]) {
    if (!names.length) return {};
    return parseObservedUsers(await host.run("observe users", remoteScript("appserver-observe-users"), names));
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
    const journal = journalFor(resource);
    const recovered = await recoverInterrupted(host, journal, [SSH_SERVICE]);
    if (recovered.length) progress(`${resource}: restored ${recovered.join(", ")} (an earlier apply was cut off)`, started);
    const files = renderAppServerFiles(spec, resource);
    const packages = appServerPackages(spec);
    const request = observationFor(files, previous.managedFiles, packages);
    const names = spec.users.map((u) => u.name);
    const [before, usersBefore] = [await observeHost(host, request), await observeUsers(host, names)];
    const steps = planAppServer(spec, files, packages, previous.managedFiles, before, usersBefore);
    const result = await converge(host, steps, {
        journal,
        managed: previous.managedFiles,
        progress: (line) => progress(`${resource}: ${line}`, started),
        reconnect,
    });
    const after = steps.length ? await observeHost(host, request) : before;
    const usersAfter = steps.length ? await observeUsers(host, names) : usersBefore;
    const created = names.filter((n) => !usersBefore[n]?.exists && usersAfter[n]?.exists);
    return {
        managedFiles: result.managedFiles,
        installedPackages: [...new Set([...previous.installedPackages, ...result.installedPackages])],
        createdUsers: [...new Set([...previous.createdUsers, ...created])],
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
    spec: Pick<AppServerSpec, "removeHomesOnDelete" | "removePackagesOnDelete">,
    resource: string,
): Promise<void> {
    const started = Date.now();
    await host.mutate(`stop ${LDMINFOD_SOCKET}`, remoteScript("ldminfod-remove"), [LDMINFOD_SOCKET]);
    for (const [path, file] of Object.entries(record.managedFiles)) {
        // A key file in the home of a user we remove with its home goes with it.
        progress(`${resource}: ${file.backup ? "restore" : "remove"} ${path}`, started);
        await restoreOriginal(host, path, file);
    }
    await host.mutate("systemd forgets the removed units", remoteScript("daemon-reload"), []);
    if (record.managedFiles[SSHD_DROPIN])
        await host.mutate(`restart ${SSH_SERVICE} without our drop-in`, remoteScript("restart-if-active"), [SSH_SERVICE]);
    if (record.createdUsers.length) {
        progress(`${resource}: remove users ${record.createdUsers.join(" ")}${spec.removeHomesOnDelete ? " and their homes" : ""}`, started);
        await host.mutate(`remove users ${record.createdUsers.join(" ")}`, remoteScript("appserver-remove-users"), [
            spec.removeHomesOnDelete ? "1" : "0",
            ...record.createdUsers,
        ]);
    }
    if (spec.removePackagesOnDelete && record.installedPackages.length) {
        progress(`${resource}: purge ${record.installedPackages.join(" ")}`, started);
        await host.mutate(`apt-get purge ${record.installedPackages.join(" ")}`, remoteScript("purge-packages"), record.installedPackages, {
            timeoutMs: 30 * 60_000,
        });
    }
}
