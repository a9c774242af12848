import { Client } from "ssh2";
import { sha256Hex } from "../core/sha256";
import { sha256Fingerprint } from "../core/hostKey";
import { shq, shqAll } from "./shell";

/** How to reach a host. `privateKey` is a secret: nothing here ever prints it. */
export interface SshTarget {
    host: string;
    port: number;
    user: string;
    privateKey: string;
    hostKeyFingerprint: string;
    /** Run every command through `sudo -n` (for a non-root administrator). */
    sudo: boolean;
}

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

/** Every mutating command appends one line here on the host: the audit trail tests count. */
export const MUTATION_LOG = "/var/log/netboot/mutations.log";

const CONNECT_TIMEOUT_MS = 15_000;
/** sshd allows 10 sessions per connection by default; stay under it when resources run in parallel. */
const MAX_CHANNELS = 8;

export class SshConnectError extends Error {}

export class RemoteCommandError extends Error {
    constructor(
        readonly host: string,
        readonly what: string,
        readonly result: ExecResult,
    ) {
        const detail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-15).join("\n");
        super(`${host}: ${what} failed (exit ${result.code})${detail ? ":\n" + detail : ""}`);
    }
}

export function targetLabel(t: Pick<SshTarget, "user" | "host" | "port">): string {
    return `${t.user}@${t.host}:${t.port}`;
}

/**
 * One SSH connection to one host, shared by every resource on that host during a run (see
 * pool.ts). All remote work goes through `run` (reads) or `mutate` (changes, audited).
 */
export class RemoteHost {
    readonly label: string;
    /** Mutating commands this process sent over this connection. */
    mutations = 0;
    private active = 0;
    private readonly locks = new Map<string, Promise<unknown>>();
    private waiting: Array<() => void> = [];
    private closed = false;

    private constructor(
        private readonly client: Client,
        readonly target: SshTarget,
    ) {
        this.label = targetLabel(target);
        client.on("close", () => (this.closed = true));
    }

    static connect(target: SshTarget, timeoutMs = CONNECT_TIMEOUT_MS): Promise<RemoteHost> {
        const label = targetLabel(target);
        return new Promise((resolve, reject) => {
            const client = new Client();
            let presented: string | undefined;
            let settled = false;
            const fail = (err: Error) => {
                if (settled) return;
                settled = true;
                client.end();
                reject(err);
            };
            client.on("ready", () => {
                settled = true;
                resolve(new RemoteHost(client, target));
            });
            client.on("error", (err: Error & { level?: string }) => {
                if (presented !== undefined && presented !== target.hostKeyFingerprint) {
                    fail(
                        new SshConnectError(
                            `${label} presented host key ${presented}, but connection.hostKeyFingerprint pins ` +
                                `${target.hostKeyFingerprint}: refusing to connect. Update the pin only if you ` +
                                `know the server's key changed.`,
                        ),
                    );
                } else if (err.level === "client-authentication") {
                    fail(new SshConnectError(`${label} refused the private key (authentication failed)`));
                } else {
                    fail(new SshConnectError(`cannot reach ${label}: ${err.message}`));
                }
            });
            client.on("close", () => fail(new SshConnectError(`${label} closed the connection during set-up`)));
            client.connect({
                host: target.host,
                port: target.port,
                username: target.user,
                privateKey: target.privateKey,
                readyTimeout: timeoutMs,
                keepaliveInterval: 15_000,
                keepaliveCountMax: 4,
                // Never trust on first use: the key must match the pin.
                hostVerifier: (key: Buffer) => {
                    presented = sha256Fingerprint(key);
                    return presented === target.hostKeyFingerprint;
                },
            });
        });
    }

    /**
     * Runs `fn` when no other `exclusive(name)` call on this host is running: for work the host
     * allows only once at a time (apt, dpkg), while resources are applied in parallel.
     */
    async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
        const previous = this.locks.get(name) ?? Promise.resolve();
        const run = previous.catch(() => undefined).then(fn);
        this.locks.set(name, run);
        return run;
    }

    get isClosed(): boolean {
        return this.closed;
    }

    close(): void {
        this.client.end();
    }

    /**
     * Runs `script` with `sh -c` (through `sudo -n` when configured), `args` as $1..$n. Never
     * throws on a non-zero exit: callers decide through `run` and `mutate`.
     */
    async exec(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
        const command = `${this.target.sudo ? "sudo -n " : ""}sh -c ${shq(script)} netboot ${shqAll(args)}`;
        await this.acquireChannel();
        try {
            return await this.execRaw(command, opts);
        } finally {
            this.releaseChannel();
        }
    }

    /** A command that changes nothing; throws RemoteCommandError on a non-zero exit. */
    async run(what: string, script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<string> {
        const result = await this.exec(script, args, opts);
        if (result.code !== 0) throw new RemoteCommandError(this.label, what, result);
        return result.stdout;
    }

    /** A command that changes the host: logged on the host in MUTATION_LOG, then run. */
    async mutate(what: string, script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<string> {
        this.mutations++;
        const audit =
            `mkdir -p ${shq(MUTATION_LOG.replace(/\/[^/]*$/, ""))} && ` +
            `printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${shq(what.replace(/\n/g, " "))} >>${shq(MUTATION_LOG)}\n`;
        return this.run(what, audit + script, args, opts);
    }

    /**
     * A command line sent as it is, for hosts without a POSIX shell (OpenSSH on Windows runs it
     * with cmd.exe). Throws RemoteCommandError on a non-zero exit.
     */
    async runCommandLine(what: string, commandLine: string, opts: ExecOptions & { mutating?: boolean } = {}): Promise<string> {
        if (opts.mutating) this.mutations++;
        await this.acquireChannel();
        try {
            const result = await this.execRaw(commandLine, opts);
            if (result.code !== 0) throw new RemoteCommandError(this.label, what, result);
            return result.stdout;
        } finally {
            this.releaseChannel();
        }
    }

    async readFile(path: string): Promise<Buffer | undefined> {
        const result = await this.exec('[ -e "$1" ] || exit 3; cat -- "$1" | base64 -w0', [path]);
        if (result.code === 3) return undefined;
        if (result.code !== 0) throw new RemoteCommandError(this.label, `read ${path}`, result);
        return Buffer.from(result.stdout, "base64");
    }

    /**
     * Replaces `path` atomically: the content goes to a temporary file in the same directory,
     * is checked against its SHA-256 and flushed, then renamed over the target, so a reader (or
     * a crash) sees the whole old file or the whole new one. Returns the new SHA-256.
     */
    async writeFileAtomic(path: string, content: string | Buffer, mode = "0644"): Promise<string> {
        const sha256 = sha256Hex(content);
        await this.mutate(`write ${path}`, WRITE_ATOMIC_SCRIPT, [path, mode, sha256], { stdin: content });
        return sha256;
    }

    private execRaw(command: string, opts: ExecOptions): Promise<ExecResult> {
        const timeoutMs = opts.timeoutMs ?? 120_000;
        return new Promise((resolve, reject) => {
            if (this.closed) {
                reject(new SshConnectError(`connection to ${this.label} is closed`));
                return;
            }
            this.client.exec(command, (err, stream) => {
                if (err) {
                    reject(new SshConnectError(`${this.label}: cannot open a command channel: ${err.message}`));
                    return;
                }
                const out: Buffer[] = [];
                const errOut: Buffer[] = [];
                let code = -1;
                const timer = setTimeout(() => {
                    stream.close();
                    reject(new Error(`${this.label}: command timed out after ${timeoutMs / 1000} s`));
                }, timeoutMs);
                stream.on("data", (d: Buffer) => out.push(d));
                stream.stderr.on("data", (d: Buffer) => errOut.push(d));
                stream.on("exit", (c: number | null) => (code = c ?? -1));
                stream.on("close", () => {
                    clearTimeout(timer);
                    resolve({
                        stdout: Buffer.concat(out).toString("utf8"),
                        stderr: Buffer.concat(errOut).toString("utf8"),
                        code,
                    });
                });
                stream.end(opts.stdin ?? "");
            });
        });
    }

    private async acquireChannel(): Promise<void> {
        if (this.active < MAX_CHANNELS) {
            this.active++;
            return;
        }
        await new Promise<void>((resolve) => this.waiting.push(resolve));
    }

    private releaseChannel(): void {
        const next = this.waiting.shift();
        if (next) next();
        else this.active--;
    }
}

const WRITE_ATOMIC_SCRIPT = `set -eu
dst=$1 mode=$2 expected=$3
dir=$(dirname -- "$dst")
mkdir -p -- "$dir"
tmp=$(mktemp -- "$dir/.netboot.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat >"$tmp"
chmod "$mode" -- "$tmp"
actual=$(sha256sum -- "$tmp" | cut -d' ' -f1)
if [ "$actual" != "$expected" ]; then echo "content arrived damaged ($actual)" >&2; exit 1; fi
# Flush the data before the rename makes it visible, and the directory after.
sync -- "$tmp"
mv -f -- "$tmp" "$dst"
trap - EXIT
sync -- "$dir"
`;
