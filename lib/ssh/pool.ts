import { stackOf } from "../core/ownership";
import { sha256Hex } from "../core/sha256";
import type { Host } from "../engine/host";
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

/** The connection's stack, from the first resource that names its owner. */
function named(host: RemoteHost, owner: string | undefined): RemoteHost {
    if (owner !== undefined) host.stack ??= stackOf(owner);
    return host;
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
    const host = named(await dialing, owner);
    if (target.sudo) {
        await host.run("check passwordless sudo (sudo -n true)", "true").catch((err: Error) => {
            connections.delete(key);
            host.close();
            throw new Error(`${host.label}: connection.sudo is set but sudo -n does not work: ${err.message}`);
        });
    }
    return host;
}
