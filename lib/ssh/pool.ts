import { stackOf } from "../core/ownership";
import { sha256Hex } from "../core/sha256";
import { FAULT_ENV, faultyHost, parseFault } from "../engine/faults";
import type { Host } from "../engine/host";
import { progress } from "../provider/progress";
import { RemoteHost, type SshTarget } from "./remoteHost";

/**
 * One connection per host per run. The Pulumi engine runs every dynamic resource of a run in
 * one provider process, so a process-wide map is exactly "per run"; a connection that drops is
 * forgotten and the next caller dials again.
 */
const connections = new Map<string, Promise<RemoteHost>>();

/** How hosts are reached: over SSH, unless a test put a fake in (useHostsForTests). */
let testHosts: ((target: SshTarget) => Promise<Host>) | undefined;

/** Unit tests only: every connectHost answers with `dial(target)` instead of an SSH connection. */
export function useHostsForTests(dial: ((target: SshTarget) => Promise<Host>) | undefined): void {
    testHosts = dial;
}

function poolKey(t: SshTarget): string {
    const secretPart = sha256Hex(t.privateKey);
    return [t.user, t.host, t.port, t.hostKeyFingerprint, t.sudo, secretPart].join("|");
}

/**
 * The connection's stack, from the first resource that names its owner; under the fault suite's
 * NETBOOT_FAULT (test only, lib/engine/faults.ts) wrapped in the host that injects the fault.
 */
function named(host: RemoteHost, owner: string | undefined): Host {
    if (owner !== undefined) host.stack ??= stackOf(owner);
    const fault = parseFault(process.env[FAULT_ENV]);
    return fault ? faultyHost(host, fault, { cut: () => host.cutConnection(), report: (line) => progress(line) }) : host;
}

/**
 * The pooled connection to `target`. `owner` (a resource's "project/stack: Kind name") names the
 * stack in the host lock its first change takes (RemoteHost.holdApplyLock).
 */
export async function connectHost(target: SshTarget, owner?: string): Promise<Host> {
    if (testHosts) return testHosts(target);
    const key = poolKey(target);
    const existing = connections.get(key);
    if (existing) {
        const host = await existing.catch(() => undefined);
        if (host && !host.isClosed) return named(host, owner);
        connections.delete(key);
    }
    const dialing = RemoteHost.connect(target);
    connections.set(key, dialing);
    dialing.catch(() => connections.delete(key));
    const remote = await dialing;
    if (target.sudo) {
        await remote.run("check passwordless sudo (sudo -n true)", "true").catch((err: Error) => {
            connections.delete(key);
            remote.close();
            throw new Error(`${remote.label}: connection.sudo is set but sudo -n does not work: ${err.message}`);
        });
    }
    return named(remote, owner);
}
