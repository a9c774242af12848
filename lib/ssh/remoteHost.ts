import { hostname } from "node:os";
import { Client, type ClientChannel } from "ssh2";
import { sha256Fingerprint } from "../core/hostKey";
import { type ExecOptions, type ExecResult, type Host, RemoteCommandError, SshConnectError } from "../engine/host";
import { remoteScript } from "../remote/scripts";
import { shq, shqAll } from "./shell";

export type { ExecOptions, ExecResult };
export { RemoteCommandError, SshConnectError };

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

/** Every mutating command appends one line here on the host: the audit trail tests count. */
export const MUTATION_LOG = "/var/log/netboot/mutations.log";

/** The host's apply lock (host-lock.sh): one stack changes a host at a time. */
export const HOST_LOCK = "/var/lib/netboot/apply.lock";
/** How long a run waits for another run's lock before it gives up, naming the holder. */
const LOCK_WAIT_MS = 20_000;
/** This process: a lock held under this name is one our own dropped connection left. */
const THIS_RUN = `process ${process.pid} on ${hostname()}`;

const CONNECT_TIMEOUT_MS = 15_000;
/** sshd allows 10 sessions per connection by default; stay under it when resources run in parallel. */
const MAX_CHANNELS = 8;

export function targetLabel(t: Pick<SshTarget, "user" | "host" | "port">): string {
    return `${t.user}@${t.host}:${t.port}`;
}

/**
 * One SSH connection to one host, shared by every resource on that host during a run (see
 * pool.ts). All remote work goes through `run` (reads) or `mutate` (changes, audited).
 */
export class RemoteHost implements Host {
    readonly label: string;
    /** Mutating commands this process sent over this connection. */
    mutations = 0;
    private active = 0;
    private readonly locks = new Map<string, Promise<unknown>>();
    private waiting: Array<() => void> = [];
    private closed = false;
    /** The stack whose run this connection serves ("project/stack"), named in the host lock. */
    stack?: string;
    private applyLock?: Promise<void>;

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

    /** The fault suite only (lib/engine/faults.ts): the socket goes at once, without an SSH goodbye. */
    cutConnection(): void {
        this.closed = true;
        this.client.destroy();
    }

    /**
     * Runs `script` with `sh -c` (through `sudo -n` when configured), `args` as $1..$n. Never
     * throws on a non-zero exit: callers decide through `run` and `mutate`.
     */
    async exec(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
        const command = this.shellCommand(script, args);
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
        await this.holdApplyLock();
        this.mutations++;
        return this.run(what, remoteScript("audit"), [what, script, ...args], opts);
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

    /**
     * Before the first change this connection makes, the host's apply lock, held until the
     * connection ends (the run is over, or it dropped). Another stack's run on the host is waited
     * for a little, then refused by name: two stacks never interleave their changes on one host.
     */
    holdApplyLock(): Promise<void> {
        this.applyLock ??= this.takeApplyLock();
        return this.applyLock;
    }

    private async takeApplyLock(): Promise<void> {
        const holder = `${this.stack ?? "a run that names no stack"} (pulumi, ${THIS_RUN})`;
        const command = this.shellCommand(remoteScript("host-lock"), [HOST_LOCK, holder]);
        const started = Date.now();
        for (;;) {
            const answer = await this.openLockChannel(command);
            if (answer.locked) return;
            const [name, pid, since] = answer.holder.split("\t");
            if (name?.endsWith(`(pulumi, ${THIS_RUN})`) && pid) {
                // Our own earlier connection, dropped while sshd still holds its channel: end it.
                await this.exec('kill -- "$1"', [pid]);
            } else if (Date.now() - started > LOCK_WAIT_MS) {
                throw new Error(
                    `${this.label} is being changed by ${name ?? "another run"}${since ? ` since ${since}` : ""}: one stack changes a host at a time, ` +
                        `so ${this.stack ?? "this run"} changed nothing there. Run it again when that run is over.`,
                );
            }
            await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
    }

    /** The lock's channel: resolves once it holds the lock (and stays open) or with the holder's line. */
    private openLockChannel(command: string): Promise<{ locked: true } | { locked: false; holder: string }> {
        return this.withChannel(command, "the host lock", (stream, resolve, reject) => {
            let out = "";
            let errOut = "";
            let settled = false;
            stream.on("data", (d: Buffer) => {
                out += d.toString("utf8");
                if (!settled && out.split("\n").includes("locked")) {
                    settled = true;
                    resolve({ locked: true });
                }
            });
            stream.stderr.on("data", (d: Buffer) => {
                errOut += d.toString("utf8");
            });
            stream.on("close", () => {
                if (settled) return;
                settled = true;
                const busy = out.split("\n").find((line) => line.startsWith("busy\t"));
                if (busy) resolve({ locked: false, holder: busy.slice("busy\t".length) });
                else reject(new Error(`${this.label}: cannot take the host lock ${HOST_LOCK}: ${(errOut || out).trim() || "the command ended"}`));
            });
        });
    }

    /** `script` with `args` as $1..$n, as the host's shell runs it (through `sudo -n` when configured). */
    private shellCommand(script: string, args: readonly string[]): string {
        return `${this.target.sudo ? "sudo -n " : ""}sh -c ${shq(script)} netboot ${shqAll(args)}`;
    }

    /**
     * A new exec channel on the connection, handed to `use` inside the channel's callback: its
     * listeners must be on before the callback returns, since ssh2 may parse the command's whole
     * answer (data, exit status, close) from the same network read and emit it at once.
     */
    private withChannel<T>(
        command: string,
        what: string,
        use: (stream: ClientChannel, resolve: (value: T) => void, reject: (err: Error) => void) => void,
    ): Promise<T> {
        return new Promise((resolve, reject) => {
            if (this.closed) {
                reject(new SshConnectError(`connection to ${this.label} is closed`));
                return;
            }
            this.client.exec(command, (err, stream) => {
                if (err) reject(new SshConnectError(`${this.label}: cannot open a channel for ${what}: ${err.message}`));
                else use(stream, resolve, reject);
            });
        });
    }

    async readFile(path: string): Promise<Buffer | undefined> {
        const result = await this.exec(remoteScript("read-file"), [path]);
        if (result.code === 3) return undefined;
        if (result.code !== 0) throw new RemoteCommandError(this.label, `read ${path}`, result);
        return Buffer.from(result.stdout, "base64");
    }

    private execRaw(command: string, opts: ExecOptions): Promise<ExecResult> {
        const timeoutMs = opts.timeoutMs ?? 120_000;
        return this.withChannel(command, "a command", (stream, resolve, reject) => {
            const out: Buffer[] = [];
            const errOut: Buffer[] = [];
            let code = -1;
            let exited = false;
            const timer = setTimeout(() => {
                stream.close();
                reject(new Error(`${this.label}: command timed out after ${timeoutMs / 1000} s`));
            }, timeoutMs);
            stream.on("data", (d: Buffer) => out.push(d));
            stream.stderr.on("data", (d: Buffer) => errOut.push(d));
            stream.on("exit", (c: number | null) => {
                exited = true;
                code = c ?? -1;
            });
            stream.on("close", () => {
                clearTimeout(timer);
                // A channel that closes without an exit status was cut with its connection: the
                // command may or may not have run, and nothing more can be sent on this connection.
                if (!exited) {
                    reject(new SshConnectError(`${this.label}: the connection dropped while a command ran`));
                    return;
                }
                resolve({
                    stdout: Buffer.concat(out).toString("utf8"),
                    stderr: Buffer.concat(errOut).toString("utf8"),
                    code,
                });
            });
            stream.end(opts.stdin ?? "");
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
