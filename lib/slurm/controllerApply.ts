import { converge, journalFor, restoreOriginal } from "../engine/converge";
import type { Host } from "../engine/host";
import type { ManagedFileRecord, Step } from "../engine/steps";
import { type HostObservation, observeHost } from "../host/observe";
import { progress } from "../provider/progress";
import { remoteScript } from "../remote/scripts";
import {
    type ClusterSpec,
    CONTROLLER_PACKAGES,
    CONTROLLER_SERVICES,
    controllerFiles,
    type JoinedNode,
    joinedNodes,
    type Lease,
    MUNGE_DOOR_CLOSE,
    MUNGE_DOOR_FILES,
    parseDnsmasqLeases,
    planMungeDoor,
    SERVICES_OF,
} from "./clusterSpec";

/** dnsmasq's lease file on Debian (the LtspServer's DHCP in full mode, or a dnsmasq DhcpScope on the server). */
export const LEASE_FILE = "/var/lib/misc/dnsmasq.leases";
const OUTPUT_MARKER = ".netboot-output-dir";

export function outputMarker(spec: Pick<ClusterSpec, "outputDir">): string {
    return `${spec.outputDir}/${OUTPUT_MARKER}`;
}

/**
 * The controller's apply as engine steps, from what the server has now: the packages if any is
 * missing, the shared output directory if netboot has not made it, each file that differs,
 * the munge key's door for the nodes (after the key: it copies it), then each service restarted
 * whose file changed or that is not running, and enabled. Pure.
 */
export function planController(spec: ClusterSpec, controllerHostname: string, seen: HostObservation, aptProxy?: string): Step[] {
    const steps: Step[] = [];
    const missing = CONTROLLER_PACKAGES.filter((p) => !seen.packages[p]);
    if (missing.length) steps.push({ kind: "install", packages: CONTROLLER_PACKAGES, aptProxy, why: `missing: ${missing.join(" ")}` });
    if (!seen.files[outputMarker(spec)]) {
        steps.push({
            kind: "run",
            what: `make the shared output directory ${spec.outputDir}`,
            script: "slurm-output-dir",
            args: [spec.outputDir, outputMarker(spec)],
        });
    }
    const restart = new Set<string>();
    for (const { file, owner } of controllerFiles(spec, controllerHostname)) {
        if (seen.files[file.path] === file.sha256) continue;
        steps.push({ kind: "write", file, owner, reload: SERVICES_OF[file.path] });
        for (const s of SERVICES_OF[file.path] ?? []) restart.add(s);
    }
    steps.push(...planMungeDoor(spec, seen.files));
    for (const service of CONTROLLER_SERVICES) {
        const state = seen.services[service];
        if (restart.has(service) || state?.active !== "active")
            steps.push({ kind: "restart", service, why: restart.has(service) ? "its file changed" : "not running" });
        if (state?.enabled !== "enabled") steps.push({ kind: "enable", service });
    }
    return steps;
}

export interface ControllerRecord {
    controllerHostname: string;
    managedFiles: Record<string, ManagedFileRecord>;
    /** The nodes the controller knows, with their MAC from the leases. */
    nodes: JoinedNode[];
    /** The DHCP leases on the server (every client that asked for an address, joined or not). */
    leases: Lease[];
}

async function observe(host: Host, spec: ClusterSpec): Promise<HostObservation> {
    return observeHost(host, {
        files: [...controllerFiles(spec, "").map((f) => f.file.path), outputMarker(spec), ...MUNGE_DOOR_FILES],
        services: CONTROLLER_SERVICES,
        packages: CONTROLLER_PACKAGES,
    });
}

export async function clusterFacts(host: Host): Promise<Pick<ControllerRecord, "controllerHostname" | "nodes" | "leases">> {
    const out = await host.run("read the Slurm cluster", remoteScript("slurm-facts"), [LEASE_FILE]);
    const part = (name: string) => /* the text between "== name" and the next marker */ (out.split(`== ${name}\n`)[1] ?? "").split(/^== /m)[0];
    const leases = part("leases");
    return { controllerHostname: part("hostname").trim(), nodes: joinedNodes(part("nodes"), leases), leases: parseDnsmasqLeases(leases) };
}

/** Create and update: converge the controller, then read what joined. */
export async function ensureController(
    host: Host,
    spec: ClusterSpec,
    aptProxy: string | undefined,
    managed: Record<string, ManagedFileRecord>,
    owner?: string,
): Promise<ControllerRecord> {
    const started = Date.now();
    const phase = (what: string) => progress(`SlurmController ${spec.clusterName}: ${what}`, started);
    const { controllerHostname } = await clusterFacts(host);
    const steps = planController(spec, controllerHostname, await observe(host, spec), aptProxy);
    const result = await converge(host, steps, { journal: journalFor(`SlurmController ${spec.clusterName}`), managed, progress: phase, owner });
    return { ...(await clusterFacts(host)), managedFiles: result.managedFiles };
}

/** What refresh reads: the files' checksums (drift) and the nodes and leases. */
export async function readController(
    host: Host,
    spec: ClusterSpec,
): Promise<Pick<ControllerRecord, "controllerHostname" | "nodes" | "leases"> & { fileSums: Record<string, string | null> }> {
    const seen = await observe(host, spec);
    return { ...(await clusterFacts(host)), fileSums: seen.files };
}

/**
 * Delete: slurmctld and the rsync daemon stop, every file goes back as it was, the munge key's
 * door closes (no node that boots gets the key from here); the output directory (data) stays.
 */
export async function removeController(host: Host, managed: Record<string, ManagedFileRecord>, owner?: string): Promise<void> {
    await host.mutate("stop slurmctld and the rsync daemon", remoteScript("slurm-remove"));
    for (const [path, record] of Object.entries(managed)) await restoreOriginal(host, path, record, owner);
    await host.mutate("close the munge key's door", remoteScript("key-door-remove"), MUNGE_DOOR_CLOSE);
    if (managed["/etc/munge/munge.key"]) await host.mutate("restart munge on its previous key", remoteScript("restart-if-active"), ["munge"]);
}
