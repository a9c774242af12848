/**
 * The one vocabulary every resource's planner speaks: typed steps that `converge` applies to a
 * host. Planners are pure (observation in, steps out); only converge talks to the host.
 */

/** A file as a resource wants it on the host. */
export interface DesiredFile {
    path: string;
    content: string;
    /** Octal, e.g. "0644". */
    mode: string;
    sha256: string;
}

/** What a resource records about each file it manages (kept in Pulumi state). */
export interface ManagedFileRecord {
    sha256: string;
    /** Where the file that was there before us is kept, to be put back on delete; null if we created the file. */
    backup: string | null;
}

export type Step =
    | {
          kind: "write";
          file: DesiredFile;
          /** user:group; absent keeps the owner of the file replaced (root for a new file). */
          owner?: string;
          /** The daemon's own check of the candidate, with its path as $1 (e.g. 'dnsmasq --test --conf-file="$1"'). */
          check?: string;
          /** Services restarted when this file is restored after a failure (they read it). */
          reload?: string[];
          /** The file must stay inside this directory, links followed (an image's chroot): else nothing is written. */
          confineTo?: string;
          /** false: a file in something this resource builds (an image's chroot), never the administrator's: no backup for delete. */
          keepOriginal?: false;
          why?: string;
      }
    /** Stop managing a file: the original goes back, or the file we created goes. */
    | { kind: "release"; path: string; reload?: string[]; why?: string }
    | { kind: "install"; packages: string[]; aptProxy?: string; why?: string }
    /** `path` becomes a symbolic link to the directory `target` (checked to be one before anything changes). */
    | { kind: "link"; path: string; target: string; why?: string }
    /** The symbolic link at `path` goes (anything else there stays). */
    | { kind: "unlink"; path: string; why?: string }
    /** A script of lib/remote by name, with its arguments. */
    | {
          kind: "run";
          what: string;
          script: string;
          args: string[];
          /** Host files the script rewrites: saved first, restored on failure, and the resource's own (ownership) like the files it writes. */
          touches?: string[];
          timeoutMs?: number;
          /** Runs when no other step or command holding this host lock runs (e.g. "ltsp": one `ltsp image` at a time). */
          exclusive?: string;
          /** The script's stdin: for values that may not be arguments (password hashes: ps, the audit log). */
          stdin?: string;
          why?: string;
      }
    | { kind: "restart"; service: string; why?: string }
    | { kind: "enable"; service: string; why?: string }
    /** A raw command line for a host without a POSIX shell (Windows: PowerShell -EncodedCommand). */
    | { kind: "remote-script"; what: string; commandLine: string; mutating: true; why?: string };

export function describeStep(step: Step): string {
    switch (step.kind) {
        case "write":
            return `write ${step.file.path}`;
        case "release":
            return `release ${step.path}`;
        case "install":
            return `install ${step.packages.join(" ")}`;
        case "link":
            return `link ${step.path} -> ${step.target}`;
        case "unlink":
            return `unlink ${step.path}`;
        case "run":
            return step.what;
        case "restart":
            return `restart ${step.service}`;
        case "enable":
            return `enable ${step.service}`;
        case "remote-script":
            return step.what;
    }
}
