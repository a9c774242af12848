/**
 * What the engine and the host modules need of a host: run a script with arguments, read a file,
 * send a raw command line (Windows), take turns. RemoteHost (SSH) implements it; tests use fakes.
 */
export interface ExecOptions {
    stdin?: string | Buffer;
    /** Default 120 s; package installs and image builds pass more. */
    timeoutMs?: number;
}

export interface ExecResult {
    stdout: string;
    stderr: string;
    code: number;
}

export interface Host {
    /** user@host:port, for messages. */
    readonly label: string;
    /** Runs `script` with `sh -c`, `args` as $1..$n. Never throws on a non-zero exit. */
    exec(script: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
    /** A command that changes nothing; throws RemoteCommandError on a non-zero exit. */
    run(what: string, script: string, args?: readonly string[], opts?: ExecOptions): Promise<string>;
    /** A command that changes the host: audited on the host, then run; throws on a non-zero exit. */
    mutate(what: string, script: string, args?: readonly string[], opts?: ExecOptions): Promise<string>;
    /** A command line sent as it is (hosts without a POSIX shell); throws on a non-zero exit. */
    runCommandLine(what: string, commandLine: string, opts?: ExecOptions & { mutating?: boolean }): Promise<string>;
    /** The file's bytes, undefined when it does not exist. */
    readFile(path: string): Promise<Buffer | undefined>;
    /** Runs `fn` when no other `exclusive(name)` call on this host is running (apt, `ltsp image`). */
    exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;
    /**
     * The host's apply lock for this run's stack, held until the connection ends; refuses, naming
     * the holder, while another stack's run holds it. Hosts without it (fakes, Windows) have no lock.
     */
    holdApplyLock?(): Promise<void>;
}

/** The connection is gone (or could not be made): nothing more can be sent over it. */
export class SshConnectError extends Error {}

export class RemoteCommandError extends Error {
    constructor(
        readonly host: string,
        readonly what: string,
        readonly result: ExecResult,
    ) {
        const detail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-15).join("\n");
        super(`${host}: ${what} failed (exit ${result.code})${detail ? `:\n${detail}` : ""}`);
    }
}
