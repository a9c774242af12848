import { remoteScript } from "../remote/scripts";
import { type ExecOptions, type Host, SshConnectError } from "./host";

/**
 * Fault injection for the fault suite (test/lab/faults.lab.test.ts) ONLY: `faultyHost` wraps a
 * Host and realizes one fault at a named step. connectHost (lib/ssh/pool.ts) puts it around a
 * real connection only when NETBOOT_FAULT is set; nothing sets it in normal use. converge knows
 * nothing of it: the fault comes in through the host converge is given.
 *
 *   NETBOOT_FAULT="<step match>@<fault>[=<argument>]"
 *
 * `<step match>` is a substring of the `what` of a command that changes the host (what the host
 * audits; for a step, its description, describeStep: "write /etc/ltsp/ltsp.conf", "ltsp image
 * thin", "restart dnsmasq", ...); the first such command that contains it gets the fault, once
 * per process, right before it runs (so the restore that follows runs unharmed). The dynamic
 * provider inherits the environment of the `pulumi` CLI that started it.
 *
 *   drop               the SSH socket is destroyed; the step then fails with a connection error.
 *   reboot             `systemctl reboot` on the host; we wait until the connection is gone.
 *   corrupt-candidate  the candidate of the matching write step (its check, "check PATH" for
 *                      "write PATH") gets an invalid line before the daemon's own check
 *                      (dnsmasq --test, kea-dhcp4 -t, dhcpd -t), which refuses it.
 *   fill-disk[=DIR]    the filesystem holding DIR (default: the written file's directory, else
 *                      /srv/ltsp) is filled; refused on a filesystem over 8 GiB (never a real disk).
 */
export const FAULT_ENV = "NETBOOT_FAULT";

export const FAULT_KINDS = ["drop", "reboot", "corrupt-candidate", "fill-disk"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
    match: string;
    kind: FaultKind;
    argument?: string;
}

/** The line that makes a candidate invalid: no daemon config syntax accepts it. */
export const INVALID_LINE = "netboot-fault-suite: this line is not valid configuration {";

/** Parses NETBOOT_FAULT; undefined when unset or empty, an error naming the variable when malformed. */
export function parseFault(text: string | undefined): Fault | undefined {
    if (!text) return undefined;
    const at = text.lastIndexOf("@");
    if (at <= 0) throw new Error(`${FAULT_ENV}="${text}": expected <step match>@<fault>, fault one of ${FAULT_KINDS.join(", ")}`);
    const match = text.slice(0, at);
    const [kind, ...rest] = text.slice(at + 1).split("=");
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
        throw new Error(`${FAULT_ENV}="${text}": unknown fault "${kind}" (one of ${FAULT_KINDS.join(", ")})`);
    }
    const argument = rest.length ? rest.join("=") : undefined;
    if (argument !== undefined && kind !== "fill-disk") throw new Error(`${FAULT_ENV}="${text}": only fill-disk takes an argument`);
    if (argument !== undefined && !argument.startsWith("/")) throw new Error(`${FAULT_ENV}="${text}": fill-disk takes an absolute directory`);
    return { match, kind: kind as FaultKind, argument };
}

/** One fault per process: once fired it stays spent, so the rollback and the rest run normally. */
let spent = false;

/** Tests only: the fault may fire again (each unit test is its own "process"). */
export function resetFaultForTests(): void {
    spent = false;
}

/** Fires the fault (true) when it is not spent yet. */
function fire(): boolean {
    if (spent) return false;
    spent = true;
    return true;
}

/** A candidate with the invalid line added: what the daemon's check sees under corrupt-candidate. */
export function corruptCandidate(content: string): string {
    return `${content}${content.endsWith("\n") || !content ? "" : "\n"}${INVALID_LINE}\n`;
}

/** The filesystem to fill for a step: the argument, else a written file's directory, else the image build area. */
export function fillTarget(fault: Fault, writtenPath: string | undefined): string {
    if (fault.argument) return fault.argument;
    if (writtenPath) return writtenPath.slice(0, writtenPath.lastIndexOf("/")) || "/";
    return "/srv/ltsp";
}

export interface FaultyHostOptions {
    /** Destroys the connection's socket, as a cable cut would (RemoteHost.cutConnection); drop needs it. */
    cut?: () => void;
    /** Where the line saying what the fault did goes (the provider's progress log). */
    report?: (line: string) => void;
}

/** The host wrapper: `host` as it is, except that `fault` is realized at the first command it names. */
export function faultyHost(host: Host, fault: Fault, opts: FaultyHostOptions = {}): Host {
    const beforeChange = async (what: string): Promise<void> => {
        if (fault.kind === "corrupt-candidate" || !what.includes(fault.match) || !fire()) return;
        const done = await realize(host, fault, what, opts.cut);
        opts.report?.(done);
    };
    /** The check of the candidate of a write the fault names (converge: checkCandidate runs "check PATH"). */
    const candidate = (what: string, script: string, exec: ExecOptions | undefined): ExecOptions | undefined => {
        if (fault.kind !== "corrupt-candidate" || script !== remoteScript("check-candidate") || !what.startsWith("check ")) return exec;
        const write = `write ${what.slice("check ".length)}`;
        if (!write.includes(fault.match) || typeof exec?.stdin !== "string" || !fire()) return exec;
        opts.report?.(`fault: an invalid line added to the candidate of "${write}"`);
        return { ...exec, stdin: corruptCandidate(exec.stdin) };
    };
    const wrapped: Host = {
        label: host.label,
        exec: (script, args, exec) => host.exec(script, args, exec),
        run: (what, script, args, exec) => host.run(what, script, args, candidate(what, script, exec)),
        mutate: async (what, script, args, exec) => {
            await beforeChange(what);
            return host.mutate(what, script, args, exec);
        },
        runCommandLine: async (what, commandLine, exec) => {
            if (exec?.mutating) await beforeChange(what);
            return host.runCommandLine(what, commandLine, exec);
        },
        readFile: (path) => host.readFile(path),
        exclusive: (name, fn) => host.exclusive(name, fn),
    };
    if (host.holdApplyLock) wrapped.holdApplyLock = () => host.holdApplyLock!();
    return wrapped;
}

/** Realizes drop, reboot or fill-disk right before the command `what`. Returns what was done, for the progress line. */
async function realize(host: Host, fault: Fault, what: string, cut: (() => void) | undefined): Promise<string> {
    switch (fault.kind) {
        case "drop":
            if (!cut) throw new Error(`${FAULT_ENV}: ${host.label} cannot cut its connection (not an SSH host)`);
            cut();
            return `fault: cut the SSH connection before "${what}"`;
        case "reboot":
            await host.exec("systemctl reboot").catch(() => undefined);
            await waitUntilGone(host);
            return `fault: rebooted ${host.label} before "${what}"`;
        default: {
            const dir = fillTarget(fault, what.startsWith("write /") ? what.slice("write ".length) : undefined);
            const out = await host.run(`fault: fill the filesystem of ${dir}`, remoteScript("fault-fill-disk"), [dir]);
            return `fault: ${out.trim()} before "${what}"`;
        }
    }
}

/** A reboot takes the connection down within seconds; give up waiting after 60 s (the step then fails anyway). */
async function waitUntilGone(host: Host): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
        try {
            await host.exec("true", [], { timeoutMs: 5_000 });
        } catch (err) {
            if (err instanceof SshConnectError) return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}
