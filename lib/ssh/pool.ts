import { RemoteHost, SshTarget } from "./remoteHost";
import { sha256Hex } from "../core/sha256";

/**
 * One connection per host per run. The Pulumi engine runs every dynamic resource of a run in
 * one provider process, so a process-wide map is exactly "per run"; a connection that drops is
 * forgotten and the next caller dials again.
 */
const connections = new Map<string, Promise<RemoteHost>>();

function poolKey(t: SshTarget): string {
    const secretPart = sha256Hex(t.privateKey);
    return [t.user, t.host, t.port, t.hostKeyFingerprint, t.sudo, secretPart].join("|");
}

export async function connectHost(target: SshTarget): Promise<RemoteHost> {
    const key = poolKey(target);
    const existing = connections.get(key);
    if (existing) {
        const host = await existing.catch(() => undefined);
        if (host && !host.isClosed) return host;
        connections.delete(key);
    }
    const dialing = RemoteHost.connect(target);
    connections.set(key, dialing);
    dialing.catch(() => connections.delete(key));
    const host = await dialing;
    if (target.sudo) {
        await host.run("check passwordless sudo (sudo -n true)", "true").catch((err: Error) => {
            connections.delete(key);
            host.close();
            throw new Error(`${host.label}: connection.sudo is set but sudo -n does not work: ${err.message}`);
        });
    }
    return host;
}
