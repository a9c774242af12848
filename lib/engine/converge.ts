import { OWNED_DIR, originalOf, ownedFile, ownerRecordOf, stackOf } from "../core/ownership";
import { sha256Hex } from "../core/sha256";
import { remoteScript } from "../remote/scripts";
import { type Host, RemoteCommandError, SshConnectError } from "./host";
import { readLinks } from "./links";
import { enableService, installPackages, restartService } from "./services";
import { type DesiredFile, describeStep, type ManagedFileRecord, type Step } from "./steps";

/**
 * Where an apply that names no owner keeps a file that was there before it, for delete to put
 * back (and where states made before owners were recorded point). With an owner, the original is
 * kept beside the file's owner record (ownership.ts: originalOf), so no two stacks share one.
 */
export const BACKUP_DIR = "/var/lib/netboot/backup";
/** Each apply's saved files (content, mode, owner) until it succeeds: see journal-restore.sh. */
export const JOURNAL_DIR = "/var/lib/netboot/journal";

export function backupPathFor(path: string): string {
    return BACKUP_DIR + path;
}

/** One journal per resource, so resources applied in parallel on one host never share one. */
export function journalFor(resource: string): string {
    return `${JOURNAL_DIR}/${sha256Hex(resource).slice(0, 16)}`;
}

/**
 * Runs `fn` (observe, plan, converge; or a delete) when no other resource of this run is changing
 * daemon configuration on the same host. dnsmasq reads the LtspServer's file and every dnsmasq
 * DhcpScope's: applied side by side, each would plan from the other's old file and restart the
 * daemon on a mix of the two applies. In turn, each plans from what the one before it wrote.
 * Image builds do not take it (they write into their own build directories, for minutes).
 */
export function inConfigTurn<T>(host: Host, fn: () => Promise<T>): Promise<T> {
    return host.exclusive("config", fn);
}

export interface ConvergeOptions {
    /** journalFor(resource). */
    journal: string;
    /** The resource's record of the files it manages, from its last apply. */
    managed: Record<string, ManagedFileRecord>;
    /** A progress line per step. */
    progress?: (message: string) => void;
    /** A new connection when the one in use dropped: used to put the files back at once. */
    reconnect?: () => Promise<Host>;
    /**
     * The resource's owner name ("project/stack: Kind name"): what it writes is refused when
     * another stack owns it, and recorded as its own on the host once the apply succeeded.
     */
    owner?: string;
}

export interface ConvergeResult {
    managedFiles: Record<string, ManagedFileRecord>;
    /** Packages the install steps installed (missing before). */
    installedPackages: string[];
    /** Whether any step ran (so the caller observes again). */
    changed: boolean;
}

/** A failed apply: every file it touched was put back (`restored`), or could not be (`problems`). */
export class ConvergeError extends Error {
    constructor(
        message: string,
        readonly restored: string[],
        readonly problems: string[],
    ) {
        super(message);
    }
}

/** The daemon's own check of candidate content; throws with the checker's words when it refuses. */
export async function checkCandidate(host: Host, path: string, content: string, command: string): Promise<void> {
    await host.run(`check ${path}`, remoteScript("check-candidate"), [command], { stdin: content }).catch((err: Error) => {
        if (!(err instanceof RemoteCommandError)) throw err;
        throw new Error(`${host.label}: ${command.split(" ")[0]} rejects the rendered ${path}:\n${(err.result.stdout + err.result.stderr).trim()}`);
    });
}

/**
 * Writes one file atomically (temporary file, checksum, fsync, rename), with its mode and owner,
 * saving what it replaces in `journal` (empty: no journal) and, the first time this project
 * manages the path, the original in `backup`. Returns whether a backup holds an original.
 */
export async function writeFile(
    host: Host,
    file: DesiredFile,
    opts: { owner?: string; journal?: string; backup?: string; confineTo?: string } = {},
): Promise<boolean> {
    const out = await host.mutate(
        `write ${file.path}`,
        remoteScript("write-file"),
        [file.path, file.mode, opts.owner ?? "", file.sha256, opts.journal ?? "", opts.backup ?? "", opts.confineTo ?? ""],
        { stdin: file.content },
    );
    return out.split("\n").includes("backup");
}

/**
 * Delete's half of the bargain: the saved original goes back, or the file we created goes; with
 * `owner`, only while the host still records it as the owner's (a file handed over to another
 * resource of the stack is theirs). Returns false when the file was kept for its new owner.
 */
export async function restoreOriginal(host: Host, path: string, record: ManagedFileRecord, owner?: string): Promise<boolean> {
    const what = record.backup ? `restore ${path} from ${record.backup}` : `remove ${path}`;
    const ownership = owner ? [ownerRecordOf(ownedFile(path)), owner] : [];
    const out = await host.mutate(what, remoteScript("restore-original"), [path, record.backup ?? "", ...ownership]);
    return !out.startsWith("kept\t");
}

/** Removes the symbolic links at `paths` (delete's side of a link step; anything else there stays). */
export async function removeLinks(host: Host, paths: readonly string[]): Promise<void> {
    await host.mutate(`unlink ${paths.join(" ")}`, remoteScript("unlink"), paths);
}

/** Which of `things` (ownership.ts keys: file/<path>, image/<name>) a stack other than `owner`'s owns on the host: thing -> owner. Reads only. */
export async function othersThings(host: Host, things: readonly string[], owner: string): Promise<Record<string, string>> {
    if (!things.length) return {};
    const out = await host.run("check who owns what this apply changes", remoteScript("owners-check"), [OWNED_DIR, owner, ...new Set(things)]);
    return Object.fromEntries(
        out
            .split("\n")
            .filter(Boolean)
            .map((line) => line.split("\t") as [string, string]),
    );
}

/** One line naming what other stacks own (three things per owner, then how many more). */
export function othersThingsText(taken: Record<string, string>): string {
    const byOwner = new Map<string, string[]>();
    for (const [thing, by] of Object.entries(taken)) byOwner.set(by, [...(byOwner.get(by) ?? []), describeThing(thing)]);
    return [...byOwner]
        .map(([by, things]) => {
            const shown = things.length > 3 ? `${things.slice(0, 3).join(", ")} and ${things.length - 3} more` : things.join(", ");
            return `${shown} ${things.length === 1 ? "belongs" : "belong"} to ${by}`;
        })
        .join("; ");
}

/**
 * Takes the host lock, then refuses, before anything changes, when another stack owns any of
 * `things`, naming each owner (no `owner`: the lock alone).
 */
export async function refuseOthersThings(host: Host, things: readonly string[], owner: string | undefined): Promise<void> {
    await lockHost(host);
    if (!owner || !things.length) return;
    const taken = await othersThings(host, things, owner);
    if (Object.keys(taken).length) {
        throw new ConvergeError(
            `${host.label}: ${othersThingsText(taken)}; ${stackOf(owner)} may not change what another stack manages, so nothing was changed`,
            [],
            [],
        );
    }
}

/** The host's apply lock (Host.holdApplyLock), its refusal as a failed apply that changed nothing. */
async function lockHost(host: Host): Promise<void> {
    await host.holdApplyLock?.().catch((err: Error) => {
        throw new ConvergeError(err.message, [], []);
    });
}

function describeThing(thing: string): string {
    return thing.startsWith("file/") ? thing.slice("file".length) : thing.replace("/", " ");
}

/** After a successful apply: `+thing` becomes `owner`'s on the host, `-thing` stops being. */
export async function recordOwners(host: Host, owner: string, records: readonly string[]): Promise<void> {
    if (records.length) await host.mutate("record the owner of what the apply made", remoteScript("owners-record"), [OWNED_DIR, owner, ...records]);
}

/** The host paths an apply of `steps` changes as its own (files confined to a build are the build's). */
function ownedPaths(steps: readonly Step[]): string[] {
    return steps.flatMap((s) =>
        s.kind === "write" ? (s.confineTo ? [] : [s.file.path]) : s.kind === "release" ? [s.path] : s.kind === "run" ? (s.touches ?? []) : [],
    );
}

/**
 * Puts back every file the journal saved (content, mode, owner) and restarts the services that
 * read them. Returns the restored paths and what could not be done.
 */
export async function restoreJournal(host: Host, journal: string, services: readonly string[]): Promise<{ restored: string[]; problems: string[] }> {
    const problems: string[] = [];
    let restored: string[] = [];
    try {
        restored = (await host.mutate("restore the files of a failed apply", remoteScript("journal-restore"), [journal])).split("\n").filter(Boolean);
    } catch (err) {
        problems.push((err as Error).message);
    }
    if (restored.length) {
        for (const service of services) {
            await restartService(host, service).catch((err: Error) => problems.push(`restart ${service} on the restored files: ${err.message}`));
        }
    }
    return { restored, problems };
}

/**
 * An apply cut off before it finished (the connection dropped and could not be made again) left
 * its journal: put those files back before anything looks at the host. Returns what was restored.
 */
export async function recoverInterrupted(host: Host, journal: string, services: readonly string[]): Promise<string[]> {
    const pending = await host.exec(remoteScript("journal-pending"), [journal]);
    if (pending.code !== 0) return [];
    const { restored, problems } = await restoreJournal(host, journal, services);
    if (problems.length) throw new Error(`${host.label}: an interrupted apply left files that could not be restored: ${problems.join("; ")}`);
    return restored;
}

/**
 * Applies `steps` in order. Each write is checked by the daemon's own check first, then written
 * atomically after what it replaces (content, mode, owner) is saved in the apply's journal; a
 * script first saves the files it rewrites. On any failure every file of this apply is
 * restored from the journal and the services that read them restarted; a dropped connection is
 * dialed again (`reconnect`) to do that, and failing that, the journal stays on the host and
 * `recoverInterrupted` restores it at the next apply. After success the written files are read
 * back by checksum. Returns the new record of managed files.
 */
export async function converge(host: Host, steps: readonly Step[], opts: ConvergeOptions): Promise<ConvergeResult> {
    // One stack at a time on a host; then, under the lock, nobody else's files.
    if (steps.length) await refuseOthersThings(host, opts.owner ? ownedPaths(steps).map(ownedFile) : [], opts.owner);
    const managed = { ...opts.managed };
    const installed: string[] = [];
    const reloadOnRestore = new Set<string>();
    let journaled = false;
    // Every candidate file goes past its daemon's own check before anything on the host changes,
    // except one whose checker a step of this plan installs first (a new server has no dnsmasq
    // yet): that one is checked right before it is written, still before it replaces anything.
    const firstInstall = steps.findIndex((s) => s.kind === "install");
    const checkedLate = new Set(steps.filter((s, i) => s.kind === "write" && s.check && firstInstall >= 0 && i > firstInstall));
    for (const step of steps) {
        if (step.kind === "write" && step.check && !checkedLate.has(step)) {
            opts.progress?.(`check ${step.file.path}`);
            await checkCandidate(host, step.file.path, step.file.content, step.check).catch((err: Error) => {
                throw new ConvergeError(err.message, [], []);
            });
        }
    }
    // A link must point at a directory that is there (an image's root the clients are served).
    const targets = [...new Set(steps.flatMap((s) => (s.kind === "link" ? [s.target] : [])))];
    if (targets.length) {
        opts.progress?.(`check ${targets.join(" ")}`);
        const absent = (await host.run("check link targets", remoteScript("link-targets-check"), targets)).split("\n").filter(Boolean);
        if (absent.length) {
            throw new ConvergeError(
                `${host.label}: ${absent.join(", ")} ${absent.length === 1 ? "is not a directory" : "are not directories"} to link to, so nothing was changed`,
                [],
                [],
            );
        }
    }
    // What the scripts of this plan rewrite is saved once, before the first step.
    const touched = [...new Set(steps.flatMap((s) => (s.kind === "run" ? (s.touches ?? []) : [])))];
    if (touched.length) {
        journaled = true;
        await host.mutate(`save ${touched.join(" ")}`, remoteScript("journal-save"), [opts.journal, ...touched]).catch(async (err: Error) => {
            throw await failed(host, err, journaled, [], opts);
        });
    }
    for (const step of steps) {
        opts.progress?.(`${describeStep(step)}${step.why ? ` (${step.why})` : ""}`);
        try {
            switch (step.kind) {
                case "write": {
                    if (checkedLate.has(step)) {
                        await checkCandidate(host, step.file.path, step.file.content, step.check!);
                    }
                    for (const s of step.reload ?? []) reloadOnRestore.add(s);
                    journaled = true;
                    const known = managed[step.file.path];
                    // The first time we manage a path, what is there is the administrator's: keep it for delete.
                    const backup =
                        known || step.keepOriginal === false ? "" : opts.owner ? originalOf(step.file.path) : backupPathFor(step.file.path);
                    const kept = await writeFile(host, step.file, { owner: step.owner, journal: opts.journal, backup, confineTo: step.confineTo });
                    managed[step.file.path] = { sha256: step.file.sha256, backup: known ? known.backup : kept ? backup : null };
                    break;
                }
                case "release": {
                    const record = managed[step.path];
                    for (const s of step.reload ?? []) reloadOnRestore.add(s);
                    journaled = true;
                    await host.mutate(`save ${step.path}`, remoteScript("journal-save"), [
                        opts.journal,
                        step.path,
                        ...(record?.backup ? [record.backup] : []),
                    ]);
                    if (record) await restoreOriginal(host, step.path, record, opts.owner);
                    delete managed[step.path];
                    break;
                }
                case "install":
                    installed.push(...(await installPackages(host, step.packages, step.aptProxy)));
                    break;
                case "link":
                case "unlink":
                    journaled = true;
                    await host.mutate(`save ${step.path}`, remoteScript("journal-save"), [opts.journal, step.path]);
                    if (step.kind === "link") await host.mutate(describeStep(step), remoteScript("link"), [step.path, step.target]);
                    else await removeLinks(host, [step.path]);
                    break;
                case "run": {
                    if (step.exclusive) {
                        await host.exclusive(step.exclusive, () =>
                            host.mutate(step.what, remoteScript(step.script), step.args, { timeoutMs: step.timeoutMs, stdin: step.stdin }),
                        );
                    } else {
                        await host.mutate(step.what, remoteScript(step.script), step.args, { timeoutMs: step.timeoutMs, stdin: step.stdin });
                    }
                    break;
                }
                case "restart":
                    await restartService(host, step.service);
                    break;
                case "enable":
                    await enableService(host, step.service);
                    break;
                case "remote-script":
                    await host.runCommandLine(step.what, step.commandLine, { mutating: step.mutating });
                    break;
            }
        } catch (err) {
            throw await failed(host, err as Error, journaled, [...reloadOnRestore], opts);
        }
    }
    if (opts.owner && steps.length) {
        const released = new Set(steps.flatMap((s) => (s.kind === "release" ? [s.path] : [])));
        const records = ownedPaths(steps).map((path) => `${released.has(path) ? "-" : "+"}${ownedFile(path)}`);
        await recordOwners(host, opts.owner, records).catch(async (err: Error) => {
            throw await failed(host, err, journaled, [...reloadOnRestore], opts);
        });
    }
    if (journaled) await host.mutate("the apply succeeded: drop its saved files", remoteScript("journal-commit"), [opts.journal]);
    await readBack(host, steps);
    return { managedFiles: managed, installedPackages: installed, changed: steps.length > 0 };
}

async function failed(host: Host, err: Error, journaled: boolean, services: string[], opts: ConvergeOptions): Promise<ConvergeError> {
    if (!journaled) return new ConvergeError(err.message, [], []);
    let target = host;
    if (err instanceof SshConnectError) {
        const again = opts.reconnect ? await opts.reconnect().catch(() => undefined) : undefined;
        if (!again) {
            return new ConvergeError(
                `${err.message}\nThe connection dropped during the apply: the files it touched are saved in ${opts.journal} on the host ` +
                    `and are restored before the next apply looks at it.`,
                [],
                [],
            );
        }
        target = again;
    }
    const { restored, problems } = await restoreJournal(target, opts.journal, services);
    const restoredText = restored.length ? `\nRestored the previous ${restored.join(", ")}.` : "";
    const problemText = problems.length ? `\nCould not restore: ${problems.join("; ")}` : "";
    return new ConvergeError(`${err.message}${restoredText}${problemText}`, restored, problems);
}

/** Every written file must now hold what was sent, every link point where it should: read-only round trips. */
async function readBack(host: Host, steps: readonly Step[]): Promise<void> {
    await readBackLinks(host, steps);
    // A file written into a build directory (an image's chroot, `confineTo`) moves with it when a
    // later step publishes the build: its checksum was verified as it was written.
    const written = steps.flatMap((s) => (s.kind === "write" && !s.confineTo ? [s.file] : []));
    if (!written.length) return;
    const out = await host.run("read back written files", remoteScript("observe"), [`${written.length}`, "0", ...written.map((f) => f.path)]);
    const sums = new Map(
        out
            .split("\n")
            .map((line) => line.split("\t"))
            .filter((f) => f[0] === "file")
            .map((f) => [f.slice(2).join("\t"), f[1]] as const),
    );
    for (const file of written) {
        if (sums.get(file.path) !== file.sha256) {
            throw new Error(`${host.label}: read-back of ${file.path} gives ${sums.get(file.path) ?? "nothing"}, expected ${file.sha256}`);
        }
    }
}

/** Each link step's path is now that link, each unlink step's no link. */
async function readBackLinks(host: Host, steps: readonly Step[]): Promise<void> {
    const wanted = new Map<string, string | null>();
    for (const s of steps) if (s.kind === "link" || s.kind === "unlink") wanted.set(s.path, s.kind === "link" ? s.target : null);
    if (!wanted.size) return;
    const links = await readLinks(host, [...wanted.keys()]);
    for (const [path, target] of wanted) {
        if (links[path] !== target) {
            throw new Error(
                `${host.label}: read-back of ${path} gives ${links[path] ? `a link to ${links[path]}` : "no link"}, expected ${target ? `a link to ${target}` : "no link"}`,
            );
        }
    }
}
