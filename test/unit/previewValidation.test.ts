import { describe, expect, it } from "vitest";
import { validateNode } from "../../lib/core/node";
import { validateScope } from "../../lib/dhcp/scopeSpec";
import { renderLtspConf } from "../../lib/ltsp/ltspConf";
import { validateLtspServer } from "../../lib/ltsp/serverSpec";
import { checkInputs } from "../../lib/provider/inputs";
import { type DhcpClaim, dhcpConflicts } from "../../lib/site/dhcpClaims";
import { nodeAssignmentProvider } from "../../resources/nodeAssignment";
import { TEST_KEY, TEST_PIN, validServerInputs } from "./helpers";

/** The engine's marker for a value not known until apply (sdk/nodejs runtime/rpc: unknownValue). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const node = (over: Record<string, unknown> = {}) => ({ nodeName: "pc01", mac: "52:54:00:00:01:01", hostname: "pc01", image: "thin", ...over });

function reasonsOf(result: { failures?: { reason: string }[] }): string[] {
    return (result.failures ?? []).map((f) => f.reason);
}

describe("check during a preview, with values not known yet", () => {
    it("still reports every failure of a known value", () => {
        const inputs = validServerInputs({ images: ["thin"], nodes: [node({ mac: "52:54:00:zz:01:01" }), UNKNOWN] });
        const result = checkInputs(inputs, inputs, validateLtspServer, () => ({}));
        expect(reasonsOf(result)).toEqual([expect.stringContaining('nodes.0.mac: "52:54:00:zz:01:01" is not a MAC address')]);
    });

    it("drops failures that concern the unknown values, and passes the inputs through unrendered", () => {
        const inputs = validServerInputs({
            connection: { host: "10.213.0.2", user: UNKNOWN, privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
            dhcp: { mode: "full", rangeStart: UNKNOWN, rangeEnd: "10.213.1.199" },
            images: ["thin"],
            nodes: [node(), UNKNOWN],
        });
        const result = checkInputs(inputs, inputs, validateLtspServer, () => ({ rendered: "never" }));
        expect(result).toEqual({ inputs });
    });

    it("validates and completes when everything is known", () => {
        const inputs = validServerInputs({ images: ["thin"], nodes: [node()] });
        const result = checkInputs(inputs, inputs, validateLtspServer, (spec) => ({ nodes: spec.nodes.length }));
        expect(result).toEqual({ inputs: { nodes: 1 } });
    });
});

describe("NodeAssignment outputs", () => {
    it("has every field, unset ones as null (a missing output reads as unknown in a preview)", async () => {
        const result = await nodeAssignmentProvider.check!({}, node());
        expect(result.inputs).toEqual({
            nodeName: "pc01",
            mac: "52:54:00:00:01:01",
            hostname: "pc01",
            image: "thin",
            ip: null,
            kernelParameters: null,
            menuTimeout: null,
            ltspConf: {},
            role: "",
        });
    });
});

describe("ltsp.conf: commands are a field of their own; a node cannot override what the server checks", () => {
    it.each([
        [{ ltspConf: { DEFAULT_IMAGE: "other" } }, 'ltspConf.DEFAULT_IMAGE: "DEFAULT_IMAGE" has a field of its own on the node'],
        [{ ltspConf: { HOSTNAME: "x" } }, 'ltspConf.HOSTNAME: "HOSTNAME" has a field of its own on the node'],
        [{ ltspConf: { POST_INIT_WIPE: "rm -rf /home" } }, 'ltspConf.POST_INIT_WIPE: "POST_INIT_WIPE" runs as a command on the clients'],
    ])("node %j is refused", (over, message) => {
        const result = validateNode(node(over));
        expect(result.ok ? [] : result.failures.map((f) => f.reason)).toEqual([expect.stringContaining(message)]);
    });

    it.each([
        [
            { clients: { extra: { CRONTAB_OFF: "30 15 * * * root poweroff" } } },
            'ltspConf.clients.extra.CRONTAB_OFF: "CRONTAB_OFF" runs as a command on the clients',
        ],
        [{ clients: { defaultImage: "fat" } }, 'ltspConf.clients.defaultImage: "fat" is not an image this server serves (images: thin)'],
    ])("server ltspConf %j is refused, naming the field", (ltspConf, message) => {
        const result = validateLtspServer(validServerInputs({ images: ["thin"], ltspConf }));
        expect(result.ok ? [] : result.failures.map((f) => f.reason)).toEqual([expect.stringContaining(message)]);
    });

    it("writes commands single-quoted, exactly as given (ltsp.conf(5) example)", () => {
        const result = validateLtspServer(
            validServerInputs({
                ltspConf: { clients: { commands: { POST_INIT_LN_XORG: "ln -sf ../ltsp/xorg-nvidia.conf /etc/X11/xorg.conf; echo 'done'" } } },
            }),
        );
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        // Single quotes with ' as '\'' : what sh reads back is the command unchanged.
        expect(renderLtspConf("test", [{ name: "clients", section: result.spec.ltspConf.clients! }])).toContain(
            `POST_INIT_LN_XORG='ln -sf ../ltsp/xorg-nvidia.conf /etc/X11/xorg.conf; echo '\\''done'\\'''`,
        );
    });
});

describe("reservations may not take an address that is already something", () => {
    it.each([
        ["10.213.1.1", "is the server's own address (lan.address)"],
        ["10.213.1.254", "is the router (dhcp.router)"],
        ["10.213.1.0", "is the network address"],
        ["10.213.1.255", "is the broadcast address"],
    ])("LtspServer: node ip %s", (ip, message) => {
        const result = validateLtspServer(
            validServerInputs({
                dhcp: { mode: "full", rangeStart: "10.213.1.100", rangeEnd: "10.213.1.199", router: "10.213.1.254" },
                images: ["thin"],
                nodes: [node({ ip })],
            }),
        );
        expect(result.ok ? [] : result.failures.map((f) => f.reason)).toEqual([
            `nodes[0] (pc01).ip: "${ip}" ${message}; a client needs an address of its own`,
        ]);
    });

    it("DhcpScope: a node on the next-server address", () => {
        const result = validateScope({
            kind: "kea",
            connection: { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
            name: "lan",
            interface: "pxebr0",
            subnet: "10.213.1.0/24",
            rangeStart: "10.213.1.100",
            rangeEnd: "10.213.1.199",
            boot: { nextServer: "10.213.1.1" },
            nodes: [node({ ip: "10.213.1.1" })],
        });
        expect(result.ok ? [] : result.failures.map((f) => f.reason)).toEqual([
            'nodes[0] (pc01).ip: "10.213.1.1" is the boot server (boot.nextServer); a client needs an address of its own',
        ]);
    });
});

describe("DHCP servers of one program that would fight", () => {
    const server: DhcpClaim = {
        owner: "LtspServer ltsp",
        host: "10.213.0.2",
        subnet: "10.213.1.1/24",
        mode: "full",
        range: ["10.213.1.100", "10.213.1.199"],
    };

    it("two full servers on one LAN, naming both and the overlap", () => {
        const scope: DhcpClaim = {
            owner: "DhcpScope dhcp-lan",
            host: "10.213.0.3",
            subnet: "10.213.1.0/24",
            mode: "full",
            range: ["10.213.1.150", "10.213.1.250"],
            scopeName: "lan",
        };
        expect(dhcpConflicts([server], scope)).toEqual([
            "DhcpScope dhcp-lan and LtspServer ltsp would both hand out addresses on 10.213.1.0/24, with overlapping ranges " +
                '10.213.1.150-10.213.1.250 and 10.213.1.100-10.213.1.199: one DHCP server per LAN (make one of them proxy, or "none" and let the other point clients at it)',
        ]);
    });

    it("proxyDHCP beside a full server, or servers on other LANs, are fine", () => {
        expect(dhcpConflicts([server], { owner: "DhcpScope p", host: "10.213.0.2", subnet: "10.213.1.0/24", mode: "proxy", scopeName: "p" })).toEqual(
            [],
        );
        expect(dhcpConflicts([server], { owner: "DhcpScope o", host: "10.213.0.2", subnet: "10.213.2.0/24", mode: "full", scopeName: "o" })).toEqual(
            [],
        );
    });

    it("two scopes of one name on a host", () => {
        const a: DhcpClaim = { owner: "DhcpScope a", host: "h", subnet: "10.0.1.0/24", mode: "full", scopeName: "lan" };
        const b: DhcpClaim = { owner: "DhcpScope b", host: "h", subnet: "10.0.2.0/24", mode: "full", scopeName: "lan" };
        expect(dhcpConflicts([a], b)).toEqual(['DhcpScope b and DhcpScope a are both scope "lan" on h']);
    });
});
