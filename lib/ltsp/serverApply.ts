import { parseSubnet } from "../core/fields";
import { TFTP_ROOT } from "../core/hostPaths";
import { OWNED_DIR, ownedFile } from "../core/ownership";
import { converge, inConfigTurn, journalFor, othersThings, recoverInterrupted, removeLinks, restoreOriginal } from "../engine/converge";
import type { Host } from "../engine/host";
import { readLinks } from "../engine/links";
import type { ManagedFileRecord } from "../engine/steps";
import { type HostObservation, observeHost, type ServiceState } from "../host/observe";
import { progress } from "../provider/progress";
import { remoteScript } from "../remote/scripts";
import {
    ALL_SERVICES,
    type DesiredFile,
    DNSMASQ_CONF,
    IPXE_FILES,
    LTSP_IMG,
    NFS_EXPORTS,
    nulLinkOf,
    nulLinkPaths,
    observationFor,
    planNulLinks,
    planServer,
    renderServerFiles,
    SERVICES,
    type Step,
    serverPackages,
} from "./serverPlan";
import type { LtspServerSpec } from "./serverSpec";

/** What an LtspServer remembers between runs, besides its inputs. */
export interface ServerRecord {
    managedFiles: Record<string, ManagedFileRecord>;
    /** Files the ltsp applets created that were not there before: delete removes them. */
    generatedFiles: string[];
    /** Packages this resource installed: removed on delete only when asked. */
    installedPackages: string[];
    /** The DIR/000 -> DIR links this resource made. */
    nulLinks?: string[];
}

export interface ServerApplyResult extends ServerRecord {
    steps: Step[];
    observation: HostObservation;
    files: DesiredFile[];
}

/**
 * Makes the host match `spec`: observe (one read-only round trip), plan, run the steps. If a
 * step fails, every file written so far is put back and dnsmasq is restarted on the old config.
 */
export async function applyServer(
    host: Host,
    spec: LtspServerSpec,
    resource: string,
    previous: ServerRecord,
    imagesChanged = false,
    reconnect?: () => Promise<Host>,
): Promise<ServerApplyResult> {
    return inConfigTurn(host, () => applyServerInTurn(host, spec, resource, previous, imagesChanged, reconnect));
}

async function applyServerInTurn(
    host: Host,
    spec: LtspServerSpec,
    resource: string,
    previous: ServerRecord,
    imagesChanged: boolean,
    reconnect?: () => Promise<Host>,
): Promise<ServerApplyResult> {
    const started = Date.now();
    const journal = journalFor(resource);
    const recovered = await recoverInterrupted(host, journal, SERVICES);
    if (recovered.length) progress(`${resource}: restored ${recovered.join(", ")} (an earlier apply was cut off)`, started);
    const files = renderServerFiles(spec, resource);
    const packages = serverPackages(spec);
    const request = observationFor(files, previous.managedFiles, packages);
    const before = await observeHost(host, request);
    const linkPaths = nulLinkPaths(spec.nulSuffixLinks, previous.nulLinks ?? []);
    const links = await readLinks(host, linkPaths);
    const steps = [
        ...planServer(files, packages, spec.nfs, previous.managedFiles, before, imagesChanged),
        ...planNulLinks(spec.nulSuffixLinks, previous.nulLinks ?? [], links),
    ];
    const result = await converge(host, steps, {
        journal,
        managed: previous.managedFiles,
        progress: (line) => progress(`${resource}: ${line}`, started),
        reconnect,
        owner: resource,
    });
    const record: ServerRecord = {
        managedFiles: result.managedFiles,
        generatedFiles: [...previous.generatedFiles],
        installedPackages: [...new Set([...previous.installedPackages, ...result.installedPackages])],
        nulLinks: [...spec.nulSuffixLinks],
    };
    const after = steps.length ? await observeHost(host, request) : before;
    for (const path of [...IPXE_FILES, LTSP_IMG, NFS_EXPORTS]) {
        if (before.files[path] === null && after.files[path] !== null && !record.generatedFiles.includes(path)) {
            record.generatedFiles.push(path);
        }
    }
    return { ...record, steps, observation: after, files };
}

/** What an LtspServer reports besides its inputs. */
export interface ServerState extends ServerRecord {
    address: string;
    tftpRoot: string;
    ltspVersion: string;
    services: Record<string, ServiceState>;
    /** SHA-256 of the iPXE menu, binaries and ltsp.img in TFTP, null when missing. */
    bootFiles: Record<string, string | null>;
    /** What the managed files hold on the host (refresh shows hand edits here). */
    files: Record<string, string | null>;
    /** Refresh: the files it would write that the host records as another stack's (ownership key -> owner). */
    takenBy?: Record<string, string>;
}

/** Create and update: converge, then report what the host now has. */
export async function convergeServer(
    host: Host,
    spec: LtspServerSpec,
    resource: string,
    previous: ServerRecord,
    previousImages: readonly string[],
    reconnect?: () => Promise<Host>,
): Promise<ServerState> {
    const imagesChanged = [...previousImages].sort().join() !== [...spec.images].sort().join();
    const result = await applyServer(host, spec, resource, previous, imagesChanged, reconnect);
    return {
        managedFiles: result.managedFiles,
        generatedFiles: result.generatedFiles,
        installedPackages: result.installedPackages,
        nulLinks: result.nulLinks,
        address: parseSubnet(spec.lan.address)!.address,
        tftpRoot: TFTP_ROOT,
        ltspVersion: result.observation.packages.ltsp ?? "",
        services: result.observation.services,
        bootFiles: Object.fromEntries([...IPXE_FILES, LTSP_IMG].map((p) => [p, result.observation.files[p] ?? null])),
        files: Object.fromEntries(result.files.map((f) => [f.path, f.content])),
    };
}

/** Refresh: what the host really has, so hand edits, stopped services and missing boot files show as drift. */
export async function readServer(
    host: Host,
    managed: Record<string, ManagedFileRecord>,
    owner?: string,
    rendered: readonly string[] = [],
): Promise<Partial<ServerState>> {
    const paths = Object.keys(managed);
    const observed = await observeHost(host, { files: [...paths, ...IPXE_FILES, LTSP_IMG], services: ALL_SERVICES, packages: ["ltsp"] });
    const managedFiles: Record<string, ManagedFileRecord> = {};
    const files: Record<string, string | null> = {};
    for (const path of paths) {
        managedFiles[path] = { ...managed[path], sha256: observed.files[path] ?? "missing" };
        const content = observed.files[path] === null ? undefined : await host.readFile(path);
        files[path] = content === undefined ? null : content.toString("utf8");
    }
    const bootFiles = Object.fromEntries([...IPXE_FILES, LTSP_IMG].map((p) => [p, observed.files[p] ?? null]));
    const writes = [...new Set([...paths, ...rendered, ...IPXE_FILES, LTSP_IMG])].map(ownedFile);
    const takenBy = owner ? await othersThings(host, writes, owner) : {};
    return { managedFiles, files, bootFiles, services: observed.services, ltspVersion: observed.packages.ltsp ?? "", takenBy };
}

/** Delete: put back what was replaced, remove what was created; packages stay unless asked. */
export function removeServer(host: Host, record: ServerRecord, removePackages: boolean, resource: string): Promise<void> {
    return inConfigTurn(host, () => removeServerInTurn(host, record, removePackages, resource));
}

async function removeServerInTurn(host: Host, record: ServerRecord, removePackages: boolean, resource: string): Promise<void> {
    const started = Date.now();
    for (const [path, file] of Object.entries(record.managedFiles)) {
        progress(`${resource}: ${file.backup ? "restore" : "remove"} ${path}`, started);
        await restoreOriginal(host, path, file, resource);
    }
    if (record.nulLinks?.length) await removeLinks(host, record.nulLinks.map(nulLinkOf));
    if (record.generatedFiles.length) {
        progress(`${resource}: remove ${record.generatedFiles.join(" ")}`, started);
        await host.mutate("remove generated TFTP files", remoteScript("remove-owned-files"), [OWNED_DIR, resource, ...record.generatedFiles]);
    }
    if (removePackages && record.installedPackages.length) {
        progress(`${resource}: purge ${record.installedPackages.join(" ")}`, started);
        await host.mutate(`apt-get purge ${record.installedPackages.join(" ")}`, remoteScript("purge-packages"), record.installedPackages, {
            timeoutMs: 30 * 60_000,
        });
    } else if (Object.keys(record.managedFiles).includes(DNSMASQ_CONF)) {
        // dnsmasq stays installed: make it drop the configuration we just removed.
        await host.mutate("restart dnsmasq without our config", remoteScript("restart-if-active"), ["dnsmasq"]);
    }
}
