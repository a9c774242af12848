import { FileTransaction, ManagedFileRecord, restoreOriginal } from "../host/fileTransaction";
import { HostObservation, observeHost } from "../host/observe";
import { ensurePackages } from "../host/packages";
import { enableService, restartService } from "../host/services";
import { validateCandidate } from "../host/validateCandidate";
import { progress } from "../provider/progress";
import { RemoteHost } from "../ssh/remoteHost";
import { LtspServerSpec } from "./serverSpec";
import { LIGHTTPD_CONF, NBD_SERVER_CONF } from "./bootMenu";
import {
    DNSMASQ_CONF,
    DesiredFile,
    IPXE_FILES,
    LTSP_IMG,
    NFS_EXPORTS,
    Step,
    observationFor,
    planServer,
    renderServerFiles,
    serverPackages,
} from "./serverPlan";

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

async function runStep(host: RemoteHost, tx: FileTransaction, record: ServerRecord, step: Step): Promise<void> {
    switch (step.kind) {
        case "write":
            if (step.file.path === DNSMASQ_CONF) await validateCandidate(host, DNSMASQ_CONF, step.file.content, 'dnsmasq --test --conf-file="$1"');
            if (step.file.path === LIGHTTPD_CONF) await validateCandidate(host, LIGHTTPD_CONF, step.file.content, 'lighttpd -tt -f "$1"');
            record.managedFiles[step.file.path] = await tx.write(step.file.path, step.file.content, step.file.mode, record.managedFiles[step.file.path]);
            return;
        case "release":
            await tx.release(step.path, record.managedFiles[step.path]);
            delete record.managedFiles[step.path];
            return;
        case "install": {
            // The apt proxy file is written by now (the plan puts it first), so no proxy here.
            const installed = await ensurePackages(host, step.packages);
            record.installedPackages = [...new Set([...record.installedPackages, ...installed])];
            return;
        }
        case "applet":
            await host.mutate(`ltsp ${step.applet}`, 'ltsp "$1"', [step.applet], { timeoutMs: 10 * 60_000 });
            return;
        case "restart":
            await restartService(host, step.service);
            return;
        case "enable":
            await enableService(host, step.service);
            return;
    }
}

/**
 * Makes the host match `spec`: observe (one read-only round trip), plan, run the steps. If a
 * step fails, every file written so far is put back and dnsmasq is restarted on the old config.
 */
export async function applyServer(
    host: RemoteHost,
    spec: LtspServerSpec,
    resource: string,
    previous: ServerRecord,
    imagesChanged = false,
): Promise<ServerApplyResult> {
    const files = renderServerFiles(spec, resource);
    const packages = serverPackages(spec);
    const request = observationFor(files, previous.managedFiles, packages);
    const before = await observeHost(host, request);
    const steps = planServer(files, packages, spec.nfs, previous.managedFiles, before, imagesChanged);
    const record: ServerRecord = {
        managedFiles: { ...previous.managedFiles },
        generatedFiles: [...previous.generatedFiles],
        installedPackages: [...previous.installedPackages],
    };
    const tx = new FileTransaction(host);
    const started = Date.now();
    for (const step of steps) {
        progress(`${resource}: ${describeStep(step)} (${step.why})`, started);
        try {
            await runStep(host, tx, record, step);
        } catch (err) {
            const touched = tx.touched;
            const problems = await tx.rollback();
            for (const [config, service] of [[DNSMASQ_CONF, "dnsmasq"], [NBD_SERVER_CONF, "nbd-server"], [LIGHTTPD_CONF, "lighttpd"]]) {
                if (!touched.includes(config)) continue;
                await host.mutate(`restart ${service} on the restored config`, 'systemctl restart "$1"', [service]).catch(() => undefined);
            }
            const restored = touched.length ? `\nRestored the previous ${touched.join(", ")}.` : "";
            const unrestored = problems.length ? `\nCould not restore: ${problems.join("; ")}` : "";
            throw new Error(`${(err as Error).message}${restored}${unrestored}`);
        }
    }
    record.nulLinks = await reconcileNulLinks(host, spec.nulSuffixLinks, previous.nulLinks ?? [], resource, started);
    const after = steps.length ? await observeHost(host, request) : before;
    for (const file of files) {
        if (after.files[file.path] !== file.sha256) {
            throw new Error(`${host.label}: read-back of ${file.path} gives ${after.files[file.path]}, expected ${file.sha256}`);
        }
    }
    for (const path of [...IPXE_FILES, LTSP_IMG, NFS_EXPORTS]) {
        if (before.files[path] === null && after.files[path] !== null && !record.generatedFiles.includes(path)) {
            record.generatedFiles.push(path);
        }
    }
    return { ...record, steps, observation: after, files };
}

const NUL_LINKS_MISSING = 'for d in "$@"; do [ "$(readlink "$d/000" 2>/dev/null)" = "$d" ] || printf "%s\\n" "$d"; done';

/** Makes DIR/000 point at DIR for each wanted DIR, removes the links no longer wanted. */
async function reconcileNulLinks(host: RemoteHost, wanted: readonly string[], had: readonly string[], resource: string, started: number): Promise<string[]> {
    const missing = wanted.length ? (await host.run("check NUL-suffix links", NUL_LINKS_MISSING, wanted)).split("\n").filter(Boolean) : [];
    if (missing.length) {
        progress(`${resource}: link ${missing.map((d) => `${d}/000`).join(" ")}`, started);
        await host.mutate("link NUL-suffixed root paths", 'set -e; for d in "$@"; do [ -d "$d" ] || { echo "$d is not a directory" >&2; exit 1; }; ln -sfn -- "$d" "$d/000"; done', missing);
    }
    const unwanted = had.filter((d) => !wanted.includes(d));
    if (unwanted.length) await removeNulLinks(host, unwanted);
    return [...wanted];
}

async function removeNulLinks(host: RemoteHost, dirs: readonly string[]): Promise<void> {
    await host.mutate("remove NUL-suffix links", 'for d in "$@"; do if [ -L "$d/000" ]; then rm -f -- "$d/000"; fi; done', dirs);
}

export function describeStep(step: Step): string {
    switch (step.kind) {
        case "write":
            return `write ${step.file.path}`;
        case "release":
            return `release ${step.path}`;
        case "install":
            return `install ${step.packages.join(" ")}`;
        case "applet":
            return `ltsp ${step.applet}`;
        case "restart":
            return `restart ${step.service}`;
        case "enable":
            return `enable ${step.service}`;
    }
}

/** Delete: put back what was replaced, remove what was created; packages stay unless asked. */
export async function removeServer(host: RemoteHost, record: ServerRecord, removePackages: boolean, resource: string): Promise<void> {
    const started = Date.now();
    for (const [path, file] of Object.entries(record.managedFiles)) {
        progress(`${resource}: ${file.backup ? "restore" : "remove"} ${path}`, started);
        await restoreOriginal(host, path, file);
    }
    if (record.nulLinks?.length) await removeNulLinks(host, record.nulLinks);
    if (record.generatedFiles.length) {
        progress(`${resource}: remove ${record.generatedFiles.join(" ")}`, started);
        await host.mutate("remove generated TFTP files", 'rm -f -- "$@"', record.generatedFiles);
    }
    if (removePackages && record.installedPackages.length) {
        progress(`${resource}: purge ${record.installedPackages.join(" ")}`, started);
        await host.mutate(`apt-get purge ${record.installedPackages.join(" ")}`, 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$@"', record.installedPackages, {
            timeoutMs: 30 * 60_000,
        });
    } else if (Object.keys(record.managedFiles).includes(DNSMASQ_CONF)) {
        // dnsmasq stays installed: make it drop the configuration we just removed.
        await host.mutate("restart dnsmasq without our config", "if systemctl is-active --quiet dnsmasq; then systemctl restart dnsmasq; fi");
    }
}
