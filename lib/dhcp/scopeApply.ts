import { converge, journalFor } from "../engine/converge";
import type { Host } from "../engine/host";
import type { ManagedFileRecord, Step } from "../engine/steps";
import { observeHost, type ServiceState } from "../host/observe";
import { progress } from "../provider/progress";
import { applyLinuxScope, removeLinuxScope } from "./linuxApply";
import { linuxBackend } from "./linuxBackends";
import type { ScopeSpec } from "./scopeSpec";
import { desiredWindowsScope, parseWindowsState, planWindowsScope, windowsApplySteps, windowsReadCommandLine, windowsRemovalSteps } from "./windows";

export interface ScopeState {
    managedFiles: Record<string, ManagedFileRecord>;
    service: ServiceState | null;
    /** Windows: cmdlets a refresh found still needed (empty when the server matches). */
    pendingCommands: string[];
}

async function windowsState(host: Host, spec: ScopeSpec) {
    const json = await host.runCommandLine(`read DHCP scope ${spec.windows!.scopeId}`, windowsReadCommandLine(spec.windows!.scopeId));
    return parseWindowsState(json);
}

/** Makes the server serve the scope; `previous` is the record of the last apply. */
export async function applyScope(
    host: Host,
    spec: ScopeSpec,
    resource: string,
    aptProxy: string | undefined,
    previous: Record<string, ManagedFileRecord>,
    reconnect?: () => Promise<Host>,
): Promise<ScopeState> {
    if (spec.kind === "windows") {
        const desired = desiredWindowsScope(spec);
        // The helper's plan: idempotent scripts, each within cmd.exe's command-line limit, as engine steps.
        const steps: Step[] = windowsApplySteps(desired, await windowsState(host, spec));
        const started = Date.now();
        await converge(host, steps, {
            journal: journalFor(resource),
            managed: {},
            progress: (line) => progress(`${resource}: ${line}`, started),
            reconnect,
        });
        // Windows has no journal to restore from: read it back and say what still differs.
        const left = planWindowsScope(desired, await windowsState(host, spec));
        if (left.length) throw new Error(`${host.label}: after configuring, the scope still differs:\n${left.join("\n")}`);
        return { managedFiles: {}, service: null, pendingCommands: [] };
    }
    const state = await applyLinuxScope(host, linuxBackend(spec, resource), previous, resource, aptProxy, reconnect);
    return { ...state, pendingCommands: [] };
}

/** Refresh: the files' checksums and the service as they are (Linux), or the cmdlets still needed (Windows). */
export async function readScope(
    host: Host,
    spec: ScopeSpec,
    resource: string,
    managed: Record<string, ManagedFileRecord>,
): Promise<Partial<ScopeState>> {
    if (spec.kind === "windows") {
        return { pendingCommands: planWindowsScope(desiredWindowsScope(spec), await windowsState(host, spec)) };
    }
    const service = linuxBackend(spec, resource).service;
    const observed = await observeHost(host, { files: Object.keys(managed), services: [service] });
    const managedFiles = Object.fromEntries(
        Object.entries(managed).map(([path, record]) => [path, { ...record, sha256: observed.files[path] ?? "missing" }]),
    );
    return { managedFiles, service: observed.services[service] };
}

export async function removeScope(host: Host, spec: ScopeSpec, resource: string, managed: Record<string, ManagedFileRecord>): Promise<void> {
    if (spec.kind === "windows") {
        await converge(host, windowsRemovalSteps(spec.windows!.scopeId), { journal: journalFor(resource), managed: {} });
        return;
    }
    await removeLinuxScope(host, linuxBackend(spec, resource).service, managed, resource);
}
