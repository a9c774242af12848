import { FileTransaction, ManagedFileRecord, restoreOriginal } from "../host/fileTransaction";
import { ServiceState, observeHost } from "../host/observe";
import { ensurePackages } from "../host/packages";
import { enableService, restartService } from "../host/services";
import { validateCandidate } from "../host/validateCandidate";
import { progress } from "../provider/progress";
import { RemoteHost } from "../ssh/remoteHost";
import { LinuxBackend } from "./linuxBackends";

export interface LinuxScopeState {
    managedFiles: Record<string, ManagedFileRecord>;
    service: ServiceState;
}

/**
 * Makes a Linux DHCP server serve the scope: its package, its config files (each checked by the
 * daemon before it replaces anything, written atomically), a restart only when a file changed
 * or the service is not running. Any failure puts every file back and restarts on the old ones.
 */
export async function applyLinuxScope(
    host: RemoteHost,
    backend: LinuxBackend,
    previous: Record<string, ManagedFileRecord>,
    resource: string,
    aptProxy: string | undefined,
): Promise<LinuxScopeState> {
    const started = Date.now();
    const paths = [...new Set([...backend.files.map((f) => f.path), ...Object.keys(previous)])];
    const before = await observeHost(host, { files: paths, services: [backend.service], packages: [backend.package] });
    const records = { ...previous };
    const tx = new FileTransaction(host);
    let changed = false;
    try {
        if (before.packages[backend.package] === null) {
            progress(`${resource}: install ${backend.package}`, started);
            await ensurePackages(host, [backend.package], aptProxy);
        }
        for (const file of backend.files) {
            if (before.files[file.path] === file.sha256) continue;
            if (file.validate) await validateCandidate(host, file.path, file.content, file.validate);
            progress(`${resource}: write ${file.path}`, started);
            records[file.path] = await tx.write(file.path, file.content, "0644", records[file.path]);
            changed = true;
        }
        for (const path of Object.keys(previous)) {
            if (backend.files.some((f) => f.path === path)) continue;
            await tx.release(path, previous[path]);
            delete records[path];
            changed = true;
        }
        const service = before.services[backend.service];
        if (changed || service?.active !== "active") {
            progress(`${resource}: restart ${backend.service}`, started);
            await restartService(host, backend.service);
        }
        if (service?.enabled !== "enabled") await enableService(host, backend.service);
    } catch (err) {
        const touched = tx.touched;
        await tx.rollback();
        if (touched.length) await host.mutate(`restart ${backend.service} on the restored config`, 'systemctl restart "$1" || true', [backend.service]);
        throw new Error(`${(err as Error).message}${touched.length ? `\nRestored the previous ${touched.join(", ")}.` : ""}`);
    }
    const after = await observeHost(host, { files: backend.files.map((f) => f.path), services: [backend.service] });
    for (const file of backend.files) {
        if (after.files[file.path] !== file.sha256) throw new Error(`${host.label}: read-back of ${file.path} gives ${after.files[file.path]}, expected ${file.sha256}`);
    }
    return { managedFiles: records, service: after.services[backend.service] };
}

/** Delete: files back as they were; the daemon restarted on them, or stopped if they do not serve. */
export async function removeLinuxScope(host: RemoteHost, service: string, managed: Record<string, ManagedFileRecord>): Promise<void> {
    for (const [path, record] of Object.entries(managed)) await restoreOriginal(host, path, record);
    await host.mutate(`restart or stop ${service}`, 'systemctl restart "$1" 2>/dev/null || systemctl stop "$1"', [service]);
}
