import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Drives the real lab (lab/netboot-lab) and the real Pulumi CLI for the lab tests. Each
 * TestStack has its own file:// backend, passphrase and config file, so tests never touch the
 * developer's dev stack or the committed Pulumi.dev.yaml.
 */
export const ROOT = resolve(__dirname, "..", "..");
const LAB = join(ROOT, "lab", "netboot-lab");
const WORK = join(ROOT, ".test-work");

export interface Run {
    code: number;
    stdout: string;
    stderr: string;
    output: string;
}

/**
 * Runs a command without blocking the test worker (vitest talks to its workers over the same
 * event loop, and a long synchronous child process starves it).
 */
export function run(
    command: string,
    args: readonly string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<Run> {
    return new Promise((resolvePromise, reject) => {
        const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT, stdio: "pipe" });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => err.push(d));
        const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 15 * 60_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            const stdout = Buffer.concat(out).toString("utf8");
            const stderr = Buffer.concat(err).toString("utf8");
            resolvePromise({ code: code ?? -1, stdout, stderr, output: `${stdout}\n${stderr}` });
        });
        // A command that exits without reading its stdin (ssh to a lab host that is rebooting) closes the
        // pipe: its exit code reports that, and an unhandled EPIPE must not fail the whole file
        // (faults.lab.test.ts's reboot row, CI of afbf49b).
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}

async function mustRun(command: string, args: readonly string[], input?: string): Promise<string> {
    const result = await run(command, args, { input });
    if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.output.slice(-4000)}`);
    return result.stdout;
}

/** `hosts`: how many extra hosts (h1..h3: application servers, a second boot server) run beside the server. */
export async function labUp(fresh: boolean, opts: { hosts?: number } = {}): Promise<Record<string, string>> {
    // NETBOOT_LAB_KEEP_DISK=1: a developer's shortcut that keeps the server's disk (chroots built
    // from the same inputs are then reused); CI never sets it.
    if (process.env.NETBOOT_LAB_KEEP_DISK === "1") fresh = false;
    await mustRun(LAB, ["up", ...(fresh ? ["--fresh"] : []), "--hosts", String(opts.hosts ?? 0)]);
    return labEnv();
}

export async function labEnv(): Promise<Record<string, string>> {
    return parseKeyValues(await mustRun(LAB, ["env"]));
}

/** A command as root on the lab server, or on lab host `host` (h1..h3), through the lab's own SSH, not the code under test. */
export function labSsh(command: string, host?: string): Promise<string> {
    return mustRun(LAB, ["ssh", ...(host ? ["--host", host] : []), command]);
}

/**
 * The TCP sockets listening on `port` on a lab host, as `ss -ltnp` prints them: one
 * "LOCAL-ADDRESS:PORT PROCESS" a listener (e.g. `10.213.7.1:10809 users:(("nbd-server",pid=812,fd=3))`).
 */
export async function listeners(port: number, host?: string): Promise<string[]> {
    const out = await labSsh(`ss -ltnpH 'sport = :${port}'`, host);
    return out
        .split("\n")
        .filter(Boolean)
        .map((line) => line.trim().split(/\s+/))
        .map((f) => `${f[3]} ${f.slice(5).join(" ")}`.trim());
}

/** Powers a lab host (server, h1..h3) off, its disk kept, or boots it again. */
export async function labPower(action: "stop" | "start", name: string): Promise<void> {
    await mustRun(LAB, [action, name]);
}

/** Writes a file on the lab server (content through stdin, so no quoting games). */
export async function labWriteFile(path: string, content: string): Promise<void> {
    await mustRun(LAB, ["ssh", `mkdir -p "$(dirname '${path}')" && cat > '${path}'`], content);
}

export async function dhcpProbe(mac: string, arch = 0): Promise<Record<string, string>> {
    return parseKeyValues(await mustRun(LAB, ["dhcp-probe", "--mac", mac, "--arch", String(arch)]));
}

/** PXE-boots a QEMU client until its kernel prints its command line; returns the console text. */
export async function pxeBoot(mac: string, uefi: boolean): Promise<string> {
    return mustRun(LAB, ["pxe-boot", "--mac", mac, ...(uefi ? ["--uefi"] : []), "--until", "Command line:", "--timeout", "300"]);
}

export interface BootUntil {
    uefi?: boolean;
    /** Regular expressions (grep -E) that must all show on the serial console. */
    until: string[];
    timeoutSeconds?: number;
    /** A blank local disk of this size (e.g. "2G"). */
    disk?: string;
    /** A disk image the test made and keeps (qcow2 when named *.qcow2, else raw). */
    diskFile?: string;
}

/**
 * PXE-boots a QEMU client until every `until` pattern has shown on its console (or it times
 * out); never throws for a boot that fell short, so a test can show the console it got.
 * Clients with different MACs may boot at the same time.
 */
export async function pxeBootUntil(mac: string, opts: BootUntil): Promise<{ ok: boolean; console: string; seconds: number }> {
    const args = ["pxe-boot", "--mac", mac, ...(opts.uefi ? ["--uefi"] : []), "--timeout", String(opts.timeoutSeconds ?? 600)];
    for (const pattern of opts.until) args.push("--until", pattern);
    if (opts.disk) args.push("--disk", opts.disk);
    if (opts.diskFile) args.push("--disk-file", opts.diskFile);
    const started = Date.now();
    const result = await run(LAB, args, { timeoutMs: ((opts.timeoutSeconds ?? 600) + 60) * 1000 });
    return { ok: result.code === 0, console: result.stdout, seconds: (Date.now() - started) / 1000 };
}

export function parseKeyValues(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return out;
}

/** sha256 of each path on the lab server ("missing" when absent). */
export async function hostChecksums(paths: readonly string[]): Promise<Record<string, string>> {
    const script = paths.map((p) => `if [ -f '${p}' ]; then sha256sum '${p}'; else echo "missing ${p}"; fi`).join("; ");
    const out: Record<string, string> = {};
    for (const line of (await labSsh(script)).trim().split("\n")) {
        const [sum, path] = line.split(/\s+/);
        out[path] = sum;
    }
    return out;
}

/**
 * SSH logins the lab server has accepted so far. Each call is itself one login (counted), so
 * the logins between two calls are `after - before - 1`.
 */
export async function sshLogins(): Promise<number> {
    return Number((await labSsh("journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true")).trim());
}

/** Lines in the host's audit log of mutating commands. */
export async function mutationCount(): Promise<number> {
    return Number((await labSsh("cat /var/log/netboot/mutations.log 2>/dev/null | wc -l")).trim());
}

let toolchainBin: string | undefined;
function toolchain(): string {
    toolchainBin ??= execFileSync(join(ROOT, "scripts", "toolchain.sh"), { encoding: "utf8" }).trim();
    return toolchainBin;
}

export class TestStack {
    readonly dir: string;
    readonly configFile: string;
    readonly name: string;
    private readonly env: NodeJS.ProcessEnv;

    private constructor(label: string) {
        mkdirSync(WORK, { recursive: true });
        this.dir = mkdtempSync(join(WORK, `${label}-`));
        this.name = `${label}-${randomBytes(3).toString("hex")}`;
        this.configFile = join(this.dir, `Pulumi.${this.name}.yaml`);
        mkdirSync(join(this.dir, "state"));
        this.env = {
            ...process.env,
            PATH: `${toolchain()}:${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
            PULUMI_BACKEND_URL: `file://${join(this.dir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: randomBytes(12).toString("hex"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_HOME: join(this.dir, "pulumi-home"),
            NO_COLOR: "1",
        };
    }

    static async create(label: string, config: Record<string, unknown>): Promise<TestStack> {
        const stack = new TestStack(label);
        await stack.init(config);
        return stack;
    }

    private async init(config: Record<string, unknown>): Promise<void> {
        // `stack init` puts the passphrase salt in Pulumi.<stack>.yaml beside Pulumi.yaml; move it
        // into this stack's own config file so the project directory stays clean.
        await this.pulumi(["stack", "init"]);
        const initFile = join(ROOT, `Pulumi.${this.name}.yaml`);
        const salt = /encryptionsalt: (\S+)/.exec(readFileSync(initFile, "utf8"))?.[1];
        rmSync(initFile);
        writeFileSync(this.configFile, `encryptionsalt: ${salt}\nconfig: ${JSON.stringify(prefixKeys(config))}\n`);
    }

    async pulumi(args: readonly string[], opts: { allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
        const takesConfigFile = ["up", "preview", "refresh", "destroy", "config"].includes(args[0]);
        const stackArgs = ["--stack", this.name, "--non-interactive", ...(takesConfigFile ? ["--config-file", this.configFile] : [])];
        // Bounded at 30 minutes: a first up that builds images beside the other lab group went past 15 here.
        const result = await run("pulumi", [...args, ...stackArgs], { env: { ...this.env, ...opts.env }, timeoutMs: 30 * 60_000 });
        if (result.code !== 0 && !opts.allowFailure) {
            throw new Error(`pulumi ${args.join(" ")} exited ${result.code}:\n${result.output.slice(-6000)}`);
        }
        return result;
    }

    /** `env` adds to the CLI's environment (the dynamic provider inherits it: NETBOOT_FAULT). */
    up(opts: { allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
        return this.pulumi(["up", "--yes", "--skip-preview", "--diff"], opts);
    }

    /** Replaces the stack's whole config (the passphrase salt stays). */
    writeConfig(config: Record<string, unknown>): void {
        const salt = /encryptionsalt: (\S+)/.exec(readFileSync(this.configFile, "utf8"))?.[1];
        writeFileSync(this.configFile, `encryptionsalt: ${salt}\nconfig: ${JSON.stringify(prefixKeys(config))}\n`);
    }

    preview(opts: { allowFailure?: boolean } = {}): Promise<Run> {
        return this.pulumi(["preview", "--diff"], opts);
    }

    refresh(): Promise<Run> {
        return this.pulumi(["refresh", "--yes", "--skip-preview", "--diff"]);
    }

    destroy(): Promise<Run> {
        return this.pulumi(["destroy", "--yes", "--skip-preview"]);
    }

    async setConfig(path: string, value: string): Promise<void> {
        await this.pulumi(["config", "set", "--path", `netboot:${path}`, value]);
    }

    async outputs(): Promise<Record<string, any>> {
        return JSON.parse((await this.pulumi(["stack", "output", "--json"])).stdout);
    }

    async exportState(): Promise<string> {
        return (await this.pulumi(["stack", "export"])).stdout;
    }

    /** resourceChanges of the newest update, from `pulumi stack history`. */
    async lastChanges(): Promise<Record<string, number>> {
        const history = JSON.parse((await this.pulumi(["stack", "history", "--json"])).stdout) as Array<{ resourceChanges?: Record<string, number> }>;
        return history[0]?.resourceChanges ?? {};
    }
}

function prefixKeys(config: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `netboot:${k}`, v]));
}

/**
 * The ltsp.conf of every lab stack whose clients a test boots to a login prompt on the serial
 * console: the menu's timeout, `console=ttyS0` for the kernel, and for the clients a longer wait
 * for that console's device. Under TCG beside other emulated clients and image builds, udev has
 * taken over 90 s to announce ttyS0 (CI consoles: "Timed out waiting for device dev-ttyS0.device",
 * then "Dependency failed for Serial Getty on ttyS0"): the client runs on, but the login prompt
 * never shows. systemd's device timeout (DefaultDeviceTimeoutSec, 90 s in bookworm's systemd 252) is
 * raised the way LTSP itself edits system.conf: a POST_INIT command, which `ltsp init` runs before
 * it executes systemd.
 */
export function serialLoginLtspConf(menuTimeout: number) {
    return {
        server: { menuTimeout, kernelParameters: "console=ttyS0" },
        clients: {
            commands: {
                POST_INIT_LAB_DEVICE_TIMEOUT:
                    'mkdir -p /etc/systemd/system.conf.d && printf "[Manager]\\nDefaultDeviceTimeoutSec=900s\\n" >/etc/systemd/system.conf.d/netboot-lab.conf',
            },
        },
    };
}

/**
 * A client's login prompt on its serial console: agetty prints the host name, then ` login:`. systemd
 * writes its status lines to the same console while getty starts, and one has landed between the two
 * (CI console: "uefi-client         Starting systemd-update-ut… Record Runlevel Change in UTMP..." with
 * " login:" on the next line), so a few hundred characters may separate them. Host names are letters,
 * digits and hyphens: nothing to escape.
 */
export function loginPrompt(hostname: string): RegExp {
    return new RegExp(`${hostname}\\b[\\s\\S]{0,300}?login:`);
}

/** The config of the dev stack, pointed at the running lab. */
export function labStackConfig(env: Record<string, string>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        site: "lab",
        server: {
            host: env.NETBOOT_LAB_HOST,
            user: env.NETBOOT_LAB_USER,
            privateKeyFile: env.NETBOOT_LAB_KEY,
            knownHostsFile: env.NETBOOT_LAB_KNOWN_HOSTS,
        },
        aptProxy: env.NETBOOT_LAB_APT_PROXY,
        lan: { interface: env.NETBOOT_LAB_BRIDGE, address: `${env.NETBOOT_LAB_SERVER_LAN_ADDR}/${env.NETBOOT_LAB_LAN_PREFIX}` },
        dhcp: { mode: "full", rangeStart: env.NETBOOT_LAB_DHCP_RANGE_START, rangeEnd: env.NETBOOT_LAB_DHCP_RANGE_END, leaseTime: "1h" },
        ltspConf: { server: { menuTimeout: 5000 }, clients: { kernelParameters: "quiet" } },
        ...overrides,
    };
}

export function readPrivateKey(env: Record<string, string>): string {
    return readFileSync(env.NETBOOT_LAB_KEY, "utf8");
}

/** What a machine on the clients' LAN that is no client found (test/lab/fixtures/outsider.sh). */
export interface OutsiderFindings {
    /** Exports read whole, with their size. */
    read: Record<string, number>;
    http: string[];
    privateKeys: string[];
    secrets: string[];
    hashes: string[];
    /** "EXPORT DOOR" -> ssh's exit status when it asked that door with the image's asking key (3: refused). */
    doors: Record<string, number>;
    /** "EXPORT DOOR" -> sftp's exit status writing as `sftpAccount` with that asking key. */
    sftp: Record<string, number>;
    output: string;
}

/**
 * Reads every NBD export of the lab server (from its nbd-server config) and its boot files over
 * HTTP as a machine with `mac` on the clients' LAN, searching them for private keys, password
 * hashes and the given secrets; and knocks on every key door an image names. The secrets go to
 * the script in a file, never on a command line.
 */
export async function outsiderReads(
    env: Record<string, string>,
    mac: string,
    secrets: string[],
    opts: { sftpAccount?: string } = {},
): Promise<OutsiderFindings> {
    const exports = (await labSsh("cat /etc/nbd-server/config"))
        .split("\n")
        .map((l) => /^\[(.+)\]$/.exec(l.trim())?.[1])
        .filter((name): name is string => name !== undefined && name !== "generic");
    mkdirSync(WORK, { recursive: true });
    const dir = mkdtempSync(join(WORK, "outsider-"));
    const patterns = join(dir, "patterns");
    writeFileSync(patterns, `${secrets.join("\n")}\n`, { mode: 0o600 });
    try {
        const output = await mustRun(LAB, [
            "lan-run",
            "--mac",
            mac,
            "--",
            "env",
            `SFTP_ACCOUNT=${opts.sftpAccount ?? ""}`,
            "bash",
            join(ROOT, "test", "lab", "fixtures", "outsider.sh"),
            env.NETBOOT_LAB_SERVER_LAN_ADDR,
            patterns,
            ...exports,
        ]);
        const found: OutsiderFindings = { read: {}, http: [], privateKeys: [], secrets: [], hashes: [], doors: {}, sftp: {}, output };
        for (const line of output.split("\n")) {
            const [kind, ...rest] = line.split(" ");
            if (kind === "read") found.read[rest[0]] = Number(rest[1]);
            else if (kind === "http") found.http.push(rest[0]);
            else if (kind === "private-key") found.privateKeys.push(`${rest[0]} ${rest[1]}`);
            else if (kind === "secret") found.secrets.push(`${rest[0]} ${rest[1]}`);
            else if (kind === "hash") found.hashes.push(`${rest[0]} ${rest[1]}`);
            else if (kind === "door") found.doors[`${rest[0]} ${rest[1]}`] = Number(rest[2]);
            else if (kind === "sftp") found.sftp[`${rest[0]} ${rest[1]}`] = Number(rest[2]);
        }
        for (const name of exports) if (!(name in found.read)) throw new Error(`the outsider did not read export ${name}:\n${output}`);
        return found;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
