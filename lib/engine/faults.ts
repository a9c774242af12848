import { remoteScript } from "../remote/scripts";
import { type Host, SshConnectError } from "./host";

/**
 * Fault injection for the fault suite (test/lab/faults.lab.test.ts) ONLY: nothing sets it in
 * normal use, and without NETBOOT_FAULT every function here does nothing.
 *
 *   NETBOOT_FAULT="<step match>@<fault>[=<argument>]"
 *
 * `<step match>` is a substring of a step's description (describeStep: "write /etc/ltsp/ltsp.conf",
 * "ltsp image thin", "restart dnsmasq", ...); the first step whose description contains it gets
 * the fault, once per process, right before it runs (so the restore that follows runs unharmed).
 * The dynamic provider inherits the environment of the `pulumi` CLI that started it.
 *
 *   drop               the SSH socket is destroyed; the step then fails with a connection error.
 *   reboot             `systemctl reboot` on the host; we wait until the connection is gone.
 *   corrupt-candidate  the candidate of the matching write step gets an invalid line before the
 *                      daemon's own check (dnsmasq --test, kea-dhcp4 -t, dhcpd -t), which refuses it.
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

function armed(description: string, kinds: readonly FaultKind[], env: NodeJS.ProcessEnv): Fault | undefined {
    if (spent) return undefined;
    const fault = parseFault(env[FAULT_ENV]);
    if (!fault || !kinds.includes(fault.kind) || !description.includes(fault.match)) return undefined;
    spent = true;
    return fault;
}

/** What the daemon's check sees of a write step's candidate: the content, or with corrupt-candidate an invalid line added. */
export function candidateUnderFault(description: string, content: string, env: NodeJS.ProcessEnv = process.env): string {
    const fault = armed(description, ["corrupt-candidate"], env);
    if (!fault) return content;
    return `${content}${content.endsWith("\n") || !content ? "" : "\n"}${INVALID_LINE}\n`;
}

/** The filesystem to fill for a step: the argument, else a written file's directory, else the image build area. */
export function fillTarget(fault: Fault, writtenPath: string | undefined): string {
    if (fault.argument) return fault.argument;
    if (writtenPath) return writtenPath.slice(0, writtenPath.lastIndexOf("/")) || "/";
    return "/srv/ltsp";
}

/**
 * Right before a step runs (converge calls it for every step): realizes drop, reboot or
 * fill-disk when NETBOOT_FAULT names this step. Returns what was done, for the progress line.
 */
export async function beforeStep(
    host: Host,
    description: string,
    writtenPath: string | undefined,
    env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
    const fault = armed(description, ["drop", "reboot", "fill-disk"], env);
    if (!fault) return undefined;
    switch (fault.kind) {
        case "drop":
            if (!host.cutConnection) throw new Error(`${FAULT_ENV}: ${host.label} cannot cut its connection (not an SSH host)`);
            host.cutConnection();
            return `fault: cut the SSH connection before "${description}"`;
        case "reboot":
            await host.exec("systemctl reboot").catch(() => undefined);
            await waitUntilGone(host);
            return `fault: rebooted ${host.label} before "${description}"`;
        case "fill-disk": {
            const dir = fillTarget(fault, writtenPath);
            const out = await host.run(`fault: fill the filesystem of ${dir}`, remoteScript("fault-fill-disk"), [dir]);
            return `fault: ${out.trim()} before "${description}"`;
        }
        default:
            return undefined;
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
