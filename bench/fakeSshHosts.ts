import { Server, utils } from "ssh2";
import { sha256Fingerprint } from "../lib/core/hostKey";
import { ChrootHost } from "../test/unit/support/chrootHost";

/**
 * Fake LTSP servers for benchmarks: each a ChrootHost (test/unit/support: the real lib/remote
 * scripts in a busybox chroot with fake systemctl, apt, dnsmasq and ltsp) behind an in-process
 * ssh2 server on its own loopback address, as sshEngine.test.ts does for one. The Pulumi CLI's
 * provider process reaches them over real SSH (RemoteHost), so the benchmark measures the
 * production path; nothing leaves this machine.
 */
export interface FakeSshHost {
    host: ChrootHost;
    address: string;
    port: number;
    hostKeyFingerprint: string;
    close(): void;
}

export async function startFakeSshHost(address: string, port: number, clientPrivateKey: string): Promise<FakeSshHost> {
    // ssh2's generator now and then makes an ed25519 key its own parser refuses ("Malformed
    // OpenSSH private key", 2 of 300 here): make another.
    let hostKey = utils.generateKeyPairSync("ed25519");
    for (let tries = 0; utils.parseKey(hostKey.private) instanceof Error && tries < 20; tries++) hostKey = utils.generateKeyPairSync("ed25519");
    const host = ChrootHost.create();
    const clientKey = utils.parseKey(clientPrivateKey);
    if (clientKey instanceof Error || Array.isArray(clientKey)) throw new Error("client key does not parse");
    const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
        client.on("authentication", (ctx) => {
            if (ctx.method !== "publickey" || ctx.key.algo !== clientKey.type || !ctx.key.data.equals(clientKey.getPublicSSH())) {
                ctx.reject(["publickey"]);
                return;
            }
            if (ctx.signature && !clientKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) {
                ctx.reject(["publickey"]);
                return;
            }
            ctx.accept();
        });
        client.on("ready", () => {
            client.on("session", (acceptSession) => {
                const session = acceptSession();
                session.on("exec", (accept, _reject, info) => {
                    const stream = accept();
                    host.serveExec(info.command, stream);
                });
            });
        });
        client.on("error", () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, address, resolve);
    });
    const publicBlob = (utils.parseKey(hostKey.public) as ReturnType<typeof utils.parseKey> & { getPublicSSH(): Buffer }).getPublicSSH();
    return {
        host,
        address,
        port,
        hostKeyFingerprint: sha256Fingerprint(publicBlob),
        close() {
            server.close();
            host.remove();
        },
    };
}
