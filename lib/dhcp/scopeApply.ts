import { converge, journalFor } from "../engine/converge";
import type { Host } from "../engine/host";
import type { ManagedFileRecord, Step } from "../engine/steps";
import { observeHost, type ServiceState } from "../host/observe";
import { progress } from "../provider/progress";
import { applyLinuxScope, removeLinuxScope } from "./linuxApply";
import { linuxBackend } from "./linuxBackends";
import type { ScopeSpec } from "./scopeSpec";
import type { WindowsOwned } from "./windows/actions";
import { desiredWindowsScope } from "./windows/desired";
import { planWindows, planWindowsScope, removalCmdlets } from "./windows/plan";
import { windowsReadCommandLine } from "./windows/read";
import { windowsRemovalSteps } from "./windows/removal";
import { parseWindowsState, type WindowsState } from "./windows/state";
import { windowsActionSteps } from "./windows/steps";

export interface ScopeState {
    managedFiles: Record<string, ManagedFileRecord>;
    service: ServiceState | null;
    /** Windows: cmdlets a refresh found still needed (empty when the server matches). */
    pendingCommands: string[];
    /** Windows: those of pendingCommands that remove something, for the preview to show. */
    pendingRemovals: string[];
    /** Windows: what this resource created on the server (removals are computed from it alone). */
    windowsOwned?: WindowsOwned;
    /** Windows: the scope as the last refresh read it, so that a preview can plan a config change against it. */
    observedWindows?: WindowsState;
}

/** The refusal a plan would end in, as the one PowerShell comment line refresh and preview show instead of cmdlets. */
const REFUSED = "# refused: ";

/** The cmdlets `spec` needs on a scope read as `state`, or the apply's refusal as one comment line. */
function plannedCmdlets(spec: ScopeSpec, resource: string | undefined, state: WindowsState, owned?: WindowsOwned): string[] {
    try {
        return planWindowsScope(desiredWindowsScope(spec, resource), state, owned);
    } catch (err) {
        return [`${REFUSED}${(err as Error).message}`];
    }
}

/**
 * What a preview can say before an up talks to a Windows server: the cmdlets that would remove
 * something if `spec` were applied to the scope as the last refresh read it (none known without a
 * refresh), or the refusal the apply would give.
 */
export function removalsAtPreview(spec: ScopeSpec, resource: string | undefined, observed: WindowsState | undefined, owned?: WindowsOwned): string[] {
    if (spec.kind !== "windows" || !observed) return [];
    const cmdlets = plannedCmdlets(spec, resource, observed, owned);
    return cmdlets[0]?.startsWith(REFUSED) ? cmdlets : removalCmdlets(cmdlets);
}

async function windowsState(host: Host, spec: ScopeSpec) {
    const json = await host.runCommandLine(`read DHCP scope ${spec.windows!.scopeId}`, windowsReadCommandLine(spec.windows!.scopeId));
    return parseWindowsState(json);
}

/**
 * Makes the server serve the scope; `previous` is the record of the last apply, `owned` what the
 * last Windows apply created (undefined on create).
 */
export async function applyScope(
    host: Host,
    spec: ScopeSpec,
    resource: string,
    aptProxy: string | undefined,
    previous: Record<string, ManagedFileRecord>,
    reconnect?: () => Promise<Host>,
    owned?: WindowsOwned,
): Promise<ScopeState> {
    if (spec.kind === "windows") {
        const desired = desiredWindowsScope(spec, resource);
        // The plan refuses (throws) here, before any step runs, what would take over or remove what
        // this resource did not create.
        const plan = planWindows(desired, await windowsState(host, spec), owned);
        // The helper's plan: idempotent scripts, each within cmd.exe's command-line limit, as engine steps.
        const steps: Step[] = windowsActionSteps(`configure DHCP scope ${desired.scopeId}`, desired.scopeId, plan.actions);
        const started = Date.now();
        await converge(host, steps, {
            journal: journalFor(resource),
            managed: {},
            progress: (line) => progress(`${resource}: ${line}`, started),
            reconnect,
        });
        // Windows has no journal to restore from: read it back and say what still differs.
        const after = await windowsState(host, spec);
        const left = planWindowsScope(desired, after, plan.owned);
        if (left.length) throw new Error(`${host.label}: after configuring, the scope still differs:\n${left.join("\n")}`);
        return { managedFiles: {}, service: null, pendingCommands: [], pendingRemovals: [], windowsOwned: plan.owned, observedWindows: after };
    }
    const state = await applyLinuxScope(host, linuxBackend(spec, resource), previous, resource, aptProxy, reconnect);
    return { ...state, pendingCommands: [], pendingRemovals: [] };
}

/**
 * Refresh: the files' checksums and the service as they are (Linux), or the cmdlets still needed
 * (Windows), those that remove something apart, so that the preview after a refresh shows them.
 * A plan that would be refused shows as its message, a PowerShell comment.
 */
export async function readScope(
    host: Host,
    spec: ScopeSpec,
    resource: string,
    managed: Record<string, ManagedFileRecord>,
    owned?: WindowsOwned,
): Promise<Partial<ScopeState>> {
    if (spec.kind === "windows") {
        const state = await windowsState(host, spec);
        // A refusal is one comment line: no Remove- cmdlet among the pending ones.
        const pendingCommands = plannedCmdlets(spec, resource, state, owned);
        return { pendingCommands, pendingRemovals: removalCmdlets(pendingCommands), observedWindows: state };
    }
    const service = linuxBackend(spec, resource).service;
    const observed = await observeHost(host, { files: Object.keys(managed), services: [service] });
    const managedFiles = Object.fromEntries(
        Object.entries(managed).map(([path, record]) => [path, { ...record, sha256: observed.files[path] ?? "missing" }]),
    );
    return { managedFiles, service: observed.services[service] };
}

/** Delete: what the resource made (Linux: its files; Windows: what `owned` records, see windowsRemovalPlan). */
export async function removeScope(
    host: Host,
    spec: ScopeSpec,
    resource: string,
    managed: Record<string, ManagedFileRecord>,
    owned?: WindowsOwned,
): Promise<void> {
    if (spec.kind === "windows") {
        const steps = windowsRemovalSteps(spec.windows!.scopeId, spec.connection.host, await windowsState(host, spec), owned);
        if (steps.length) await converge(host, steps, { journal: journalFor(resource), managed: {} });
        return;
    }
    await removeLinuxScope(host, linuxBackend(spec, resource).service, managed, resource);
}
