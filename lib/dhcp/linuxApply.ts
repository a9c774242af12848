import { converge, inConfigTurn, journalFor, recoverInterrupted, restoreOriginal } from "../engine/converge";
import type { Host } from "../engine/host";
import type { ManagedFileRecord, Step } from "../engine/steps";
import { type HostObservation, observeHost, type ServiceState } from "../host/observe";
import { progress } from "../provider/progress";
import { remoteScript } from "../remote/scripts";
import type { LinuxBackend } from "./linuxBackends";

export interface LinuxScopeState {
    managedFiles: Record<string, ManagedFileRecord>;
    service: ServiceState;
}

/**
 * The least work that makes a Linux DHCP server serve the scope: its package, each config file
 * whose checksum differs (checked by the daemon first), files no longer wanted released, and a
 * restart only when a file changed or the service is not running.
 */
export function planLinuxScope(
    backend: LinuxBackend,
    previous: Record<string, ManagedFileRecord>,
    observed: HostObservation,
    aptProxy?: string,
): Step[] {
    const steps: Step[] = [];
    if (observed.packages[backend.package] == null) steps.push({ kind: "install", packages: [backend.package], aptProxy, why: "not installed" });
    for (const file of backend.files) {
        if (observed.files[file.path] === file.sha256) continue;
        steps.push({
            kind: "write",
            file: { path: file.path, content: file.content, mode: "0644", sha256: file.sha256 },
            check: file.validate,
            reload: [backend.service],
            why: observed.files[file.path] == null ? "missing" : "content differs",
        });
    }
    for (const path of Object.keys(previous)) {
        if (!backend.files.some((f) => f.path === path)) steps.push({ kind: "release", path, reload: [backend.service], why: "no longer managed" });
    }
    const service = observed.services[backend.service];
    const filesChanged = steps.some((s) => s.kind === "write" || s.kind === "release");
    if (filesChanged || service?.active !== "active") {
        steps.push({
            kind: "restart",
            service: backend.service,
            why: filesChanged ? "config changed" : `service is ${service?.active ?? "unknown"}`,
        });
    }
    if (service?.enabled !== "enabled") steps.push({ kind: "enable", service: backend.service, why: `service is ${service?.enabled ?? "unknown"}` });
    return steps;
}

/** Observe, plan, converge (any failure puts every file back and restarts the daemon on them). */
export async function applyLinuxScope(
    host: Host,
    backend: LinuxBackend,
    previous: Record<string, ManagedFileRecord>,
    resource: string,
    aptProxy: string | undefined,
    reconnect?: () => Promise<Host>,
): Promise<LinuxScopeState> {
    return inConfigTurn(host, async () => {
        const started = Date.now();
        const journal = journalFor(resource);
        await recoverInterrupted(host, journal, [backend.service]);
        const paths = [...new Set([...backend.files.map((f) => f.path), ...Object.keys(previous)])];
        const before = await observeHost(host, { files: paths, services: [backend.service], packages: [backend.package] });
        const steps = planLinuxScope(backend, previous, before, aptProxy);
        const result = await converge(host, steps, {
            journal,
            managed: previous,
            progress: (line) => progress(`${resource}: ${line}`, started),
            reconnect,
            owner: resource,
        });
        const after = steps.length ? await observeHost(host, { services: [backend.service] }) : before;
        return { managedFiles: result.managedFiles, service: after.services[backend.service] };
    });
}

/** Delete: files back as they were; the daemon restarted on them, or stopped if they do not serve. */
export function removeLinuxScope(host: Host, service: string, managed: Record<string, ManagedFileRecord>, owner?: string): Promise<void> {
    return inConfigTurn(host, async () => {
        for (const [path, record] of Object.entries(managed)) await restoreOriginal(host, path, record, owner);
        await host.mutate(`restart or stop ${service}`, remoteScript("restart-or-stop"), [service]);
    });
}
