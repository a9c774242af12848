import { execFileSync, spawn } from "node:child_process";
import {
    chmodSync,
    chownSync,
    copyFileSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    statSync,
    symlinkSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ServerChannel } from "ssh2";
import { type ExecOptions, type ExecResult, type Host, RemoteCommandError, SshConnectError } from "../../../lib/engine/host";
import { remoteScript, remoteScriptName } from "../../../lib/remote/scripts";

const FAKES = ["systemctl", "journalctl", "dnsmasq", "apt-get", "dpkg-query", "ltsp", "flock"];

/**
 * A fake host that runs the real lib/remote scripts: a temporary directory made into a tiny
 * Debian-shaped root (busybox-static for the shell and core utilities, test/unit/support/fake-bin.sh
 * for systemctl, dnsmasq, apt, dpkg-query and ltsp), each command run with `chroot ROOT /bin/sh -c`.
 * Nothing outside ROOT is touched. Needs root (chroot) and /bin/busybox (busybox-static), as the
 * lab needs anyway.
 */
export class ChrootHost implements Host {
    readonly label = "root@fake-host:22";
    /** The `what` of every mutating command, in order (what RemoteHost audits). */
    readonly mutations: string[] = [];
    /** Raw command lines (Windows) and what answers them. */
    commandLines: string[] = [];
    answerCommandLine: (commandLine: string, mutating: boolean) => string = () => "";
    private readonly locks = new Map<string, Promise<unknown>>();

    private constructor(readonly root: string) {}

    static create(): ChrootHost {
        if (process.getuid?.() !== 0) {
            throw new Error("a fake host needs root (chroot, mknod); as another user run the tests that need none: vitest run --project pure");
        }
        const root = mkdtempSync(join(tmpdir(), "netboot-fake-host-"));
        mkdirSync(join(root, "bin"));
        copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
        chmodSync(join(root, "bin", "busybox"), 0o755);
        const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
        for (const applet of applets) if (!FAKES.includes(applet) && applet !== "busybox") symlinkSync("busybox", join(root, "bin", applet));
        copyFileSync(join(__dirname, "fake-bin.sh"), join(root, "bin", "fake-bin"));
        chmodSync(join(root, "bin", "fake-bin"), 0o755);
        for (const fake of FAKES) symlinkSync("fake-bin", join(root, "bin", fake));
        for (const dir of ["tmp", "etc", "run/fake", "var/lib", "srv"]) mkdirSync(join(root, dir), { recursive: true });
        chmodSync(join(root, "tmp"), 0o1777);
        mkdirSync(join(root, "dev"));
        execFileSync("mknod", ["-m", "666", join(root, "dev", "null"), "c", "1", "3"]);
        return new ChrootHost(root);
    }

    remove(): void {
        rmSync(this.root, { recursive: true, force: true });
    }

    exec(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
        return new Promise((resolve, reject) => {
            const child = spawn("/usr/sbin/chroot", [this.root, "/bin/sh", "-c", script, "netboot", ...args], {
                env: { PATH: "/bin", HOME: "/", LC_ALL: "C" },
            });
            const out: Buffer[] = [];
            const err: Buffer[] = [];
            child.stdout.on("data", (d: Buffer) => out.push(d));
            child.stderr.on("data", (d: Buffer) => err.push(d));
            child.on("error", reject);
            child.on("close", (code) =>
                resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), code: code ?? -1 }),
            );
            // A script that exits without reading its stdin closes the pipe: not an error of the test.
            child.stdin.on("error", () => undefined);
            child.stdin.end(opts.stdin ?? "");
        });
    }

    /**
     * Runs an SSH exec request's command in the chroot over the request's channel (stdin, stdout,
     * stderr, exit code): what an in-process ssh2 server in front of this host does for each exec.
     */
    serveExec(command: string, stream: ServerChannel): void {
        const child = spawn("/usr/sbin/chroot", [this.root, "/bin/sh", "-c", command], { env: { PATH: "/bin", HOME: "/", LC_ALL: "C" } });
        stream.pipe(child.stdin);
        child.stdin.on("error", () => undefined);
        child.stdout.pipe(stream, { end: false });
        child.stderr.pipe(stream.stderr, { end: false });
        child.on("close", (code) => {
            stream.exit(code ?? 1);
            stream.end();
        });
    }

    async run(what: string, script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<string> {
        const result = await this.exec(script, args, opts);
        if (result.code !== 0) throw new RemoteCommandError(this.label, what, result);
        return result.stdout;
    }

    async mutate(what: string, script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<string> {
        this.mutations.push(what);
        return this.run(what, remoteScript("audit"), [what, script, ...args], opts);
    }

    async runCommandLine(what: string, commandLine: string, opts: ExecOptions & { mutating?: boolean } = {}): Promise<string> {
        if (opts.mutating) this.mutations.push(what);
        this.commandLines.push(commandLine);
        return this.answerCommandLine(commandLine, !!opts.mutating);
    }

    async readFile(path: string): Promise<Buffer | undefined> {
        const result = await this.exec(remoteScript("read-file"), [path]);
        if (result.code === 3) return undefined;
        if (result.code !== 0) throw new RemoteCommandError(this.label, `read ${path}`, result);
        return Buffer.from(result.stdout, "base64");
    }

    async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
        const run = (this.locks.get(name) ?? Promise.resolve()).catch(() => undefined).then(fn);
        this.locks.set(name, run);
        return run;
    }

    // What a test sees and arranges on the host, by path inside it.

    path(path: string): string {
        return join(this.root, path);
    }

    exists(path: string): boolean {
        return existsSync(this.path(path));
    }

    text(path: string): string | undefined {
        return this.exists(path) ? readFileSync(this.path(path), "utf8") : undefined;
    }

    /** "0640 1000:1001" */
    modeOwner(path: string): string {
        const st = statSync(this.path(path));
        return `${(st.mode & 0o7777).toString(8).padStart(4, "0")} ${st.uid}:${st.gid}`;
    }

    put(path: string, content: string, mode = 0o644, uid = 0, gid = 0): void {
        mkdirSync(dirname(this.path(path)), { recursive: true });
        writeFileSync(this.path(path), content);
        chmodSync(this.path(path), mode);
        chownSync(this.path(path), uid, gid);
    }

    /** Makes the fake command WHAT fail (see fake-bin.sh), or succeed again. */
    failing(what: string, on = true): void {
        if (on) writeFileSync(this.path(`run/fake/fail-${what}`), "");
        else rmSync(this.path(`run/fake/fail-${what}`), { force: true });
    }

    /** The fake commands called so far, "systemctl restart dnsmasq", ... */
    calls(): string[] {
        return (this.text("run/fake/calls") ?? "").split("\n").filter(Boolean);
    }

    installed(...packages: string[]): void {
        mkdirSync(this.path("run/fake/dpkg"), { recursive: true });
        for (const p of packages) writeFileSync(this.path(`run/fake/dpkg/${p}`), "");
    }

    service(unit: string, active: string, enabled: string): void {
        mkdirSync(this.path("run/fake/svc"), { recursive: true });
        writeFileSync(this.path(`run/fake/svc/${unit}.active`), `${active}\n`);
        writeFileSync(this.path(`run/fake/svc/${unit}.enabled`), `${enabled}\n`);
    }
}

/**
 * A host whose connection can fail: `failAt(what)` makes the mutating command whose `what`
 * matches exit non-zero before it runs; `dropAfter(n)` lets n more mutating commands through and
 * then behaves like a dropped SSH connection (every call throws SshConnectError).
 */
export class FaultyHost implements Host {
    readonly label: string;
    private dropIn: number | undefined;
    private dropped = false;
    private failing: RegExp | undefined;

    constructor(readonly inner: ChrootHost) {
        this.label = inner.label;
    }

    /** The connection goes now, as a cable cut would (RemoteHost.cutConnection). */
    cut(): void {
        this.dropped = true;
    }

    dropAfter(mutations: number): this {
        this.dropIn = mutations;
        return this;
    }

    failAt(what: RegExp): this {
        this.failing = what;
        return this;
    }

    private gate(): void {
        if (this.dropped) throw new SshConnectError(`connection to ${this.label} is closed`);
    }

    async exec(script: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
        this.gate();
        // A reboot takes the connection with it.
        if (script === "systemctl reboot") {
            this.dropped = true;
            return { stdout: "", stderr: "", code: 0 };
        }
        return this.inner.exec(script, args, opts);
    }

    async run(what: string, script: string, args?: readonly string[], opts?: ExecOptions): Promise<string> {
        this.gate();
        return this.inner.run(what, script, args, opts);
    }

    async mutate(what: string, script: string, args?: readonly string[], opts?: ExecOptions): Promise<string> {
        this.gate();
        if (this.dropIn !== undefined && this.dropIn-- <= 0) {
            this.dropped = true;
            throw new SshConnectError(`${this.label}: connection lost`);
        }
        if (this.failing?.test(what)) {
            throw new RemoteCommandError(this.label, what, {
                code: 1,
                stdout: "",
                stderr: `${remoteScriptName(script) ?? "script"} failed (as the test asked)`,
            });
        }
        return this.inner.mutate(what, script, args, opts);
    }

    async runCommandLine(what: string, commandLine: string, opts?: ExecOptions & { mutating?: boolean }): Promise<string> {
        this.gate();
        return this.inner.runCommandLine(what, commandLine, opts);
    }

    async readFile(path: string): Promise<Buffer | undefined> {
        this.gate();
        return this.inner.readFile(path);
    }

    exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
        return this.inner.exclusive(name, fn);
    }
}
