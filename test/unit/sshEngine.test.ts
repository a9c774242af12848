import type { AddressInfo } from "node:net";
import { Server, utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Fingerprint } from "../../lib/core/hostKey";
import { sha256Hex } from "../../lib/core/sha256";
import { ConvergeError, converge, journalFor } from "../../lib/engine/converge";
import { resetFaultForTests } from "../../lib/engine/faults";
import type { Step } from "../../lib/engine/steps";
import { ltspApplet } from "../../lib/ltsp/serverPlan";
import { connectHost } from "../../lib/ssh/pool";
import { RemoteHost, type SshTarget } from "../../lib/ssh/remoteHost";
import { TEST_KEY } from "./helpers";
import { ChrootHost } from "./support/chrootHost";

/**
 * The engine end to end over real SSH: RemoteHost (the production transport) against an
 * in-process ssh2 Server that runs each exec request in the fake host's chroot, as sshd runs it
 * with the user's shell. `dropWhen` makes the server cut the connection instead of running a command.
 */
let host: ChrootHost;
let server: Server;
let target: SshTarget;
let dropWhen: ((command: string) => boolean) | undefined;
const commands: string[] = [];

beforeAll(async () => {
    host = ChrootHost.create();
    const hostKey = utils.generateKeyPairSync("ed25519");
    const clientKey = utils.parseKey(TEST_KEY);
    if (clientKey instanceof Error || Array.isArray(clientKey)) throw new Error("test key does not parse");
    server = new Server({ hostKeys: [hostKey.private] }, (client) => {
        client.on("authentication", (ctx) => {
            if (ctx.method !== "publickey" || ctx.key.algo !== clientKey.type || !ctx.key.data.equals(clientKey.getPublicSSH()))
                return ctx.reject(["publickey"]);
            if (ctx.signature && !clientKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) return ctx.reject(["publickey"]);
            ctx.accept();
        });
        client.on("ready", () => {
            client.on("session", (acceptSession) => {
                const session = acceptSession();
                session.on("exec", (accept, _reject, info) => {
                    const stream = accept();
                    commands.push(info.command);
                    if (dropWhen?.(info.command)) {
                        dropWhen = undefined;
                        client.end();
                        return;
                    }
                    host.serveExec(info.command, stream);
                });
            });
        });
        client.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const publicBlob = (utils.parseKey(hostKey.public) as ReturnType<typeof utils.parseKey> & { getPublicSSH(): Buffer }).getPublicSSH();
    target = {
        host: "127.0.0.1",
        port: (server.address() as AddressInfo).port,
        user: "root",
        privateKey: TEST_KEY,
        hostKeyFingerprint: sha256Fingerprint(publicBlob),
        sudo: false,
    };
});

afterAll(() => {
    server?.close();
    host?.remove();
});

function write(path: string, content: string, extra: Partial<Extract<Step, { kind: "write" }>> = {}): Step {
    return { kind: "write", file: { path, content, mode: "0644", sha256: sha256Hex(content) }, ...extra };
}

describe("the engine over SSH (ssh2 server in process, real scripts in the fake host)", () => {
    it("converges, audits every mutation on the host, reads back", async () => {
        const remote = await RemoteHost.connect(target);
        try {
            const result = await converge(remote, [write("/etc/ltsp/ltsp.conf", "[server]\n"), ltspApplet("ipxe", ["/srv/tftp/ltsp/ltsp.ipxe"])], {
                journal: journalFor("ssh test"),
                managed: {},
            });
            expect(result.managedFiles["/etc/ltsp/ltsp.conf"]).toEqual({ sha256: sha256Hex("[server]\n"), backup: null });
            expect(host.text("/etc/ltsp/ltsp.conf")).toBe("[server]\n");
            expect(
                host
                    .text("/var/log/netboot/mutations.log")!
                    .split("\n")
                    .filter(Boolean)
                    .map((l) => l.replace(/^\S+ /, "")),
            ).toEqual(["save /srv/tftp/ltsp/ltsp.ipxe", "write /etc/ltsp/ltsp.conf", "ltsp ipxe", "the apply succeeded: drop its saved files"]);
            // Values travel as arguments: the path is quoted as an argument, never inside the script text.
            expect(
                commands.some((c) =>
                    c.endsWith(
                        "'/etc/ltsp/ltsp.conf' '0644' '' '" +
                            sha256Hex("[server]\n") +
                            "' '" +
                            journalFor("ssh test") +
                            "' '/var/lib/netboot/backup/etc/ltsp/ltsp.conf' ''",
                    ),
                ),
            ).toBe(true);
        } finally {
            remote.close();
        }
    });

    it("a connection dropped at the applet: a new connection puts back every file, mode and owner included", async () => {
        host.put("/etc/dnsmasq.d/ltsp-dnsmasq.conf", "admin\n", 0o640, 0, 117);
        host.service("dnsmasq", "active", "enabled");
        const remote = await RemoteHost.connect(target);
        dropWhen = (command) => command.includes("'ltsp ipxe'");
        const steps: Step[] = [
            write("/etc/dnsmasq.d/ltsp-dnsmasq.conf", "ours\n", { check: 'dnsmasq --test --conf-file="$1"', reload: ["dnsmasq"] }),
            write("/etc/ltsp/ltsp.conf", "[server]\nMENU_TIMEOUT=0\n"),
            ltspApplet("ipxe", ["/srv/tftp/ltsp/ltsp.ipxe"]),
        ];
        const err = (await converge(remote, steps, {
            journal: journalFor("ssh test"),
            managed: {},
            reconnect: () => RemoteHost.connect(target),
        }).catch((e: Error) => e)) as ConvergeError;
        expect(err).toBeInstanceOf(ConvergeError);
        expect(err.restored.sort()).toEqual(["/etc/dnsmasq.d/ltsp-dnsmasq.conf", "/etc/ltsp/ltsp.conf", "/srv/tftp/ltsp/ltsp.ipxe"]);
        expect(host.text("/etc/dnsmasq.d/ltsp-dnsmasq.conf")).toBe("admin\n");
        expect(host.modeOwner("/etc/dnsmasq.d/ltsp-dnsmasq.conf")).toBe("0640 0:117");
        expect(host.text("/etc/ltsp/ltsp.conf")).toBe("[server]\n");
        expect(host.calls().at(-1)).toBe("systemctl is-active --quiet dnsmasq");
        expect(host.calls()).toContain("systemctl restart dnsmasq");
    });

    it("NETBOOT_FAULT reaches a pooled connection (the lab's path): drop at `ltsp ipxe` cuts the real socket; a new connection restores", async () => {
        host.put("/etc/dnsmasq.d/ltsp-dnsmasq.conf", "admin again\n", 0o640, 0, 117);
        host.put("/etc/ltsp/ltsp.conf", "[server]\n", 0o644);
        process.env.NETBOOT_FAULT = "ltsp ipxe@drop";
        resetFaultForTests();
        try {
            const steps: Step[] = [
                write("/etc/dnsmasq.d/ltsp-dnsmasq.conf", "ours again\n", { check: 'dnsmasq --test --conf-file="$1"', reload: ["dnsmasq"] }),
                write("/etc/ltsp/ltsp.conf", "[server]\nMENU_TIMEOUT=5\n"),
                ltspApplet("ipxe", ["/srv/tftp/ltsp/ltsp.ipxe"]),
            ];
            const sent = commands.length;
            const err = (await converge(await connectHost(target), steps, {
                journal: journalFor("ssh fault test"),
                managed: {},
                reconnect: () => connectHost(target),
            }).catch((e: Error) => e)) as ConvergeError;
            expect(err).toBeInstanceOf(ConvergeError);
            expect(err.message).toMatch(/closed|connection/i);
            // The applet never reached the server: the socket went first.
            expect(commands.slice(sent).some((c) => c.includes("'ltsp ipxe'"))).toBe(false);
            expect(err.restored.sort()).toEqual(["/etc/dnsmasq.d/ltsp-dnsmasq.conf", "/etc/ltsp/ltsp.conf", "/srv/tftp/ltsp/ltsp.ipxe"]);
            expect(host.text("/etc/dnsmasq.d/ltsp-dnsmasq.conf")).toBe("admin again\n");
            expect(host.modeOwner("/etc/dnsmasq.d/ltsp-dnsmasq.conf")).toBe("0640 0:117");
            expect(host.text("/etc/ltsp/ltsp.conf")).toBe("[server]\n");
        } finally {
            delete process.env.NETBOOT_FAULT;
            resetFaultForTests();
        }
    });

    it("a server with another host key is refused before anything is sent", async () => {
        const sent = commands.length;
        const wrong = `SHA256:${"A".repeat(43)}`;
        await expect(RemoteHost.connect({ ...target, hostKeyFingerprint: wrong })).rejects.toThrow(
            `but connection.hostKeyFingerprint pins ${wrong}: refusing to connect`,
        );
        expect(commands.length).toBe(sent);
    });
});
