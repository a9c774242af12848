import { converge, inConfigTurn, journalFor, recoverInterrupted, restoreOriginal } from "../engine/converge";
import type { Host } from "../engine/host";
import { type ManagedFile, planFile, planReleases, planService } from "../engine/managedFiles";
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
    const files: ManagedFile[] = backend.files.map((f) => ({
        file: { path: f.path, content: f.content, mode: "0644", sha256: f.sha256 },
        check: f.validate,
        reload: [backend.service],
    }));
    for (const managed of files) steps.push(...planFile(managed, observed));
    steps.push(
        ...planReleases(
            previous,
            backend.files.map((f) => f.path),
            () => [backend.service],
        ),
    );
    const filesChanged = steps.some((s) => s.kind === "write" || s.kind === "release");
    steps.push(...planService(backend.service, observed.services[backend.service], filesChanged));
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
