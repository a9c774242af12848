import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowList } from "../../lib/keydoor/door";
import { TEMPLATE_DIR } from "../../lib/render/templates";

/*
 * The key door's answer (templates/var/lib/netboot/doors/serve.sh) as sshd runs it: SSH_CONNECTION
 * names the asking address, and the script finds its MAC in the neighbour table. Here the table is
 * a real one, in a network namespace of its own with permanent entries, so `ip neigh` answers as
 * it does on a server for a client that just connected.
 */
const NS = `netboot-door-test-${process.pid}`;
const NODE = { ip: "10.9.9.11", mac: "52:54:00:00:0c:01" };
const TERMINAL = { ip: "10.9.9.13", mac: "52:54:00:00:0c:03" };
const STRANGER = { ip: "10.9.9.99", mac: "52:54:00:00:0c:99" };
const SECRET = "the door's secret\n";

let dir: string;
const ip = (...args: string[]) => execFileSync("ip", ["-n", NS, ...args]);

beforeAll(() => {
    execFileSync("ip", ["netns", "add", NS]);
    ip("link", "add", "lan0", "type", "veth", "peer", "name", "lan1");
    ip("link", "set", "lan0", "up");
    ip("addr", "add", "10.9.9.1/24", "dev", "lan0");
    // Upper case, as some tools print MACs: the rules compare without case.
    for (const host of [NODE, TERMINAL, STRANGER]) ip("neigh", "add", host.ip, "lladdr", host.mac.toUpperCase(), "dev", "lan0", "nud", "permanent");
    dir = mkdtempSync(join(tmpdir(), "door-"));
    copyFileSync(join(TEMPLATE_DIR, "var/lib/netboot/doors/serve.sh"), join(dir, "serve"));
    writeFileSync(join(dir, "secret"), SECRET);
});

afterAll(() => {
    spawnSync("ip", ["netns", "del", NS]);
    rmSync(dir, { recursive: true, force: true });
});

function ask(from: string, allow: string) {
    writeFileSync(join(dir, "allow"), allow);
    const r = spawnSync("ip", ["netns", "exec", NS, "sh", join(dir, "serve")], {
        env: { SSH_CONNECTION: `${from} 51234 10.9.9.1 22`, PATH: process.env.PATH },
        encoding: "utf8",
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("a key door answers by the asking machine's MAC", () => {
    it("any machine but a denied one: the node and a stranger get the secret, the terminal is refused (exit 3)", () => {
        const rules = allowList("munge", ["any"], [TERMINAL.mac]);
        expect(ask(NODE.ip, rules)).toEqual({ status: 0, stdout: SECRET, stderr: "" });
        expect(ask(STRANGER.ip, rules)).toMatchObject({ status: 0, stdout: SECRET });
        const refused = ask(TERMINAL.ip, rules);
        expect(refused).toMatchObject({ status: 3, stdout: "" });
        expect(refused.stderr).toBe(`netboot-door: ${dir.split("/").pop()} refused: ${TERMINAL.mac} at ${TERMINAL.ip} may not have this key\n`);
    });

    it("listed machines only: the node gets it, a stranger is refused", () => {
        const rules = allowList("ocs", [NODE.mac]);
        expect(ask(NODE.ip, rules)).toMatchObject({ status: 0, stdout: SECRET });
        expect(ask(STRANGER.ip, rules)).toMatchObject({ status: 3, stdout: "" });
    });

    it("an address with no MAC in the table (not on this LAN) and an empty list are refused", () => {
        expect(ask("10.9.9.50", allowList("munge", ["any"]))).toMatchObject({ status: 3, stdout: "" });
        expect(ask(NODE.ip, allowList("munge", []))).toMatchObject({ status: 3, stdout: "" });
    });
});
