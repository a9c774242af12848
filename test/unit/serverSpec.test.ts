import { describe, expect, it } from "vitest";
import { validateLtspServer } from "../../lib/ltsp/serverSpec";
import { TEST_KEY, validServerInputs } from "./helpers";

function reasons(inputs: Record<string, unknown>): string[] {
    const result = validateLtspServer(inputs);
    return result.ok ? [] : result.failures.map((f) => f.reason);
}

describe("LtspServer input validation", () => {
    it("accepts a good server and fills defaults", () => {
        const result = validateLtspServer(validServerInputs());
        expect(result.ok).toBe(true);
        if (result.ok) {
            expect(result.spec.connection).toMatchObject({ port: 22, user: "root", sudo: false });
            expect(result.spec.dhcp.leaseTime).toBe("12h");
        }
    });

    it.each([
        [
            { connection: { host: "bad host!", privateKey: TEST_KEY, hostKeyFingerprint: `SHA256:${"A".repeat(43)}` } },
            'connection.host: "bad host!" is neither an IPv4 address nor a valid host name',
        ],
        [
            { connection: { host: "10.0.0.1", port: 70000, privateKey: TEST_KEY, hostKeyFingerprint: `SHA256:${"A".repeat(43)}` } },
            "connection.port: 70000 is not a TCP port (1-65535)",
        ],
        [
            { connection: { host: "10.0.0.1", privateKey: TEST_KEY, hostKeyFingerprint: "MD5:aa:bb" } },
            'connection.hostKeyFingerprint: "MD5:aa:bb" is not an OpenSSH SHA256 fingerprint',
        ],
        [{ dhcp: { mode: "relay" } }, 'dhcp.mode: "relay" is not one of "full", "proxy", "none"'],
        [
            { dhcp: { mode: "full", rangeStart: "10.213.2.10", rangeEnd: "10.213.1.199" } },
            'dhcp.rangeStart: "10.213.2.10" is outside the LAN subnet 10.213.1.0/24 (lan.address)',
        ],
        [
            { dhcp: { mode: "full", rangeStart: "10.213.1.150", rangeEnd: "10.213.1.100" } },
            'dhcp.rangeEnd: "10.213.1.100" comes before dhcp.rangeStart 10.213.1.150',
        ],
        [
            { dhcp: { mode: "full", rangeStart: "10.213.1.1", rangeEnd: "10.213.1.100" } },
            'dhcp.rangeStart: "10.213.1.1" is the network, broadcast or server address',
        ],
        [
            { dhcp: { mode: "proxy", rangeStart: "10.213.1.10" } },
            'dhcp.rangeStart: "10.213.1.10" only applies when dhcp.mode is "full" (it is "proxy")',
        ],
        [{ lan: { interface: "pxebr0", address: "10.213.1.1/33" } }, 'lan.address: "10.213.1.1/33" is not an IPv4 address with a prefix length'],
        [{ ltspConf: { clients: { extra: { "bad-key": "1" } } } }, 'ltspConf.clients.extra.bad-key: "bad-key" is not an ltsp.conf parameter name'],
        [
            { ltspConf: { clients: { kernelParameters: "quiet\nPOST_INIT_X=reboot" } } },
            'ltspConf.clients.kernelParameters: "quiet\\nPOST_INIT_X=reboot" contains a newline',
        ],
        [{ ltspConf: { clients: { extra: { X_MODES: "$(reboot)" } } } }, "ltspConf.clients.extra.X_MODES: \"$(reboot)\" contains '$'"],
        [{ ltspConf: { clients: { extra: { MENU_TIMEOUT: "5" } } } }, 'ltspConf.clients.extra.MENU_TIMEOUT: "MENU_TIMEOUT" has a typed field'],
        [{ aptProxy: "ftp://x" }, 'aptProxy: "ftp://x" is not a proxy URL'],
    ])("rejects %j", (overrides, expected) => {
        const all = reasons(validServerInputs(overrides));
        expect(
            all.some((r) => r.startsWith(expected)),
            all.join("\n"),
        ).toBe(true);
    });

    it("allows what LTSP documents: quotes, globs and a plain $VARIABLE", () => {
        const ok = validateLtspServer(
            validServerInputs({
                ltspConf: {
                    clients: {
                        extra: { X_MODES: '"1024x768" "800x600"', CUPS_SERVER: "$SERVER", PASSWORDS_X: "guest[^:]*/" },
                    },
                },
            }),
        );
        expect(ok.ok).toBe(true);
    });

    it("never quotes the private key in a message", () => {
        const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-really-a-key-but-secret-text\n-----END OPENSSH PRIVATE KEY-----\n";
        const all = reasons(
            validServerInputs({ connection: { host: "10.0.0.1", privateKey: secret, hostKeyFingerprint: `SHA256:${"A".repeat(43)}` } }),
        );
        expect(all.join("\n")).toContain("connection.privateKey: [secret] does not parse as an SSH private key");
        expect(all.join("\n")).not.toContain("secret-text");
    });

    it("a non-root user needs sudo", () => {
        const all = reasons(
            validServerInputs({
                connection: { host: "10.0.0.1", user: "admin", privateKey: TEST_KEY, hostKeyFingerprint: `SHA256:${"A".repeat(43)}` },
            }),
        );
        expect(all).toContain(
            'connection.sudo: false must be true when connection.user is "admin" (not root): provisioning writes /etc and runs apt',
        );
    });
});
