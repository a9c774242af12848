import type { HostObservation, ServiceState } from "../host/observe";
import type { DesiredFile, ManagedFileRecord, Step } from "./steps";

/**
 * What every planner says of a file it manages, once: the file (path, content, mode), its owner,
 * the daemon's own check of a candidate and the services that read it. planFile, planReleases
 * and planService are the write/release/restart/enable logic the planners share; each planner
 * keeps only what is its own (its files, its order, its extra steps).
 */
export interface ManagedFile {
    file: DesiredFile;
    /** user:group; absent keeps the owner of the file replaced (root for a new file). */
    owner?: string;
    /** The daemon's own check of the candidate, with its path as $1. */
    check?: string;
    /** Services that read the file: restarted when it is restored after a failure, or released. */
    reload?: string[];
    /** The file must stay inside this directory, links followed (a user's home). */
    confineTo?: string;
}

/** Whether the host's copy of `file` differs from it (or is missing). */
export function fileDiffers(file: DesiredFile, observed: HostObservation): boolean {
    return observed.files[file.path] !== file.sha256;
}

/** The write that puts `managed` on the host, none when the host's copy already matches. */
export function planFile(managed: ManagedFile, observed: HostObservation): Step[] {
    const { file, owner, check, reload, confineTo } = managed;
    if (!fileDiffers(file, observed)) return [];
    return [
        {
            kind: "write",
            file,
            ...(owner ? { owner } : {}),
            ...(check ? { check } : {}),
            ...(reload ? { reload } : {}),
            ...(confineTo ? { confineTo } : {}),
            why: observed.files[file.path] == null ? "missing" : "content differs",
        },
    ];
}

/** A release for each file of the last apply's record no longer among `wanted` (paths); `reload(path)`: the services that read it. */
export function planReleases(
    record: Record<string, ManagedFileRecord>,
    wanted: readonly string[],
    reload: (path: string) => string[] | undefined = () => undefined,
): Step[] {
    return Object.keys(record)
        .filter((path) => !wanted.includes(path))
        .map((path) => {
            const services = reload(path);
            return services
                ? { kind: "release", path, reload: services, why: "no longer managed" }
                : { kind: "release", path, why: "no longer managed" };
        });
}

/**
 * A restart when the service's configuration changed, it is not running, or its package is being
 * installed (`installing`); an enable when it is not enabled, unless its package is being
 * installed (Debian's maintainer scripts enable it).
 */
export function planService(service: string, state: ServiceState | undefined, configChanged: boolean, installing = false): Step[] {
    const steps: Step[] = [];
    const active = state?.active ?? "unknown";
    const enabled = state?.enabled ?? "unknown";
    if (configChanged || active !== "active" || installing) {
        steps.push({ kind: "restart", service, why: configChanged ? "config changed" : `service is ${active}` });
    }
    if (enabled !== "enabled" && !installing) steps.push({ kind: "enable", service, why: `service is ${enabled}` });
    return steps;
}
