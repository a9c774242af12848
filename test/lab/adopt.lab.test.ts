import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { adoptServer, type ServerFacts } from "../../lib/adopt/adopt";
import { labSsh, labUp, labWriteFile, ROOT, run, TestStack } from "./harness";

/**
 * Adoption against a server set up by hand, the way an administrator following LTSP's
 * documentation does it: the packages, an ltsp.conf of their own, `ltsp dnsmasq` (proxyDHCP, what
 * it writes on this LAN), and an image in /srv/ltsp/images (an empty placeholder: no build, the
 * adoption only lists them). Then `scripts/adopt` over SSH, a preview of the adopted stack, an up,
 * and the same adoption again from what the stack left on the server.
 */
const ADMIN_LTSP_CONF = `# written by hand, before Pulumi
[server]
MENU_TIMEOUT=3000

[clients]
KERNEL_PARAMETERS="quiet"
RELOGIN=1

[52:54:00:00:03:01]
HOSTNAME=pc301
DEFAULT_IMAGE=thin

[52:54:00:00:03:02]
HOSTNAME=pc302
DEFAULT_IMAGE=thin
KERNEL_PARAMETERS="console=ttyS0"
`;

async function adopt(env: Record<string, string>, out: string): Promise<{ config: Record<string, unknown>; stderr: string; yaml: string }> {
    const result = await run(join(ROOT, "scripts", "adopt"), [
        "--host",
        env.NETBOOT_LAB_HOST,
        "--private-key-file",
        env.NETBOOT_LAB_KEY,
        "--known-hosts-file",
        env.NETBOOT_LAB_KNOWN_HOSTS,
        "--out",
        out,
    ]);
    expect(result.code, result.output).toBe(0);
    const yaml = readFileSync(out, "utf8");
    return { config: parse(yaml).config, stderr: result.stderr, yaml };
}

describe("adopting a running LTSP server: scripts/adopt, then preview and up of the adopted stack", () => {
    let env: Record<string, string>;
    let stack: TestStack;
    let adopted: { config: Record<string, unknown>; stderr: string; yaml: string };
    const work = mkdtempSync(join(tmpdir(), "netboot-adopt-"));

    beforeAll(async () => {
        env = await labUp(true);
        // The administrator's own apt proxy setting (the lab's package cache).
        await labWriteFile("/etc/apt/apt.conf.d/01proxy", `Acquire::http::Proxy "${env.NETBOOT_LAB_APT_PROXY}";\n`);
        await labSsh(
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ltsp dnsmasq ipxe squashfs-tools >/dev/null && " +
                "mkdir -p /srv/ltsp/images && truncate -s 1M /srv/ltsp/images/thin.img",
        );
        await labWriteFile("/etc/ltsp/ltsp.conf", ADMIN_LTSP_CONF);
        await labSsh("ltsp dnsmasq --real-dhcp=0 >/dev/null && ltsp ipxe >/dev/null");
    });

    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it("scripts/adopt writes the stack config and lists what it cannot express", async () => {
        adopted = await adopt(env, join(work, "Pulumi.adopted.yaml"));
        console.log(`scripts/adopt wrote:\n${adopted.yaml}\nstderr:\n${adopted.stderr}`);
        expect(adopted.config).toEqual({
            "netboot:site": "lab",
            "netboot:server": {
                host: env.NETBOOT_LAB_HOST,
                user: "root",
                privateKeyFile: env.NETBOOT_LAB_KEY,
                knownHostsFile: env.NETBOOT_LAB_KNOWN_HOSTS,
            },
            "netboot:aptProxy": env.NETBOOT_LAB_APT_PROXY,
            "netboot:lan": { interface: env.NETBOOT_LAB_BRIDGE, address: `${env.NETBOOT_LAB_SERVER_LAN_ADDR}/${env.NETBOOT_LAB_LAN_PREFIX}` },
            "netboot:dhcp": { mode: "proxy" },
            "netboot:ltspConf": { server: { menuTimeout: 3000 }, clients: { kernelParameters: "quiet", relogin: true } },
            "netboot:servedImages": ["thin"],
            "netboot:nodes": [
                { hostname: "pc301", mac: "52:54:00:00:03:01", image: "thin" },
                { hostname: "pc302", mac: "52:54:00:00:03:02", image: "thin", kernelParameters: "console=ttyS0" },
            ],
        });
        // What LTSP's template has that the stack does not write (the Raspberry Pi entries), the
        // proxy range `ltsp dnsmasq` also put on the SSH link, the DNS option (no options in proxy mode),
        // and the interface binding the stack adds.
        expect(adopted.stderr).toContain('pxe-service=tag:rpi,X86PC,"Raspberry Pi Boot   ",unused');
        expect(adopted.stderr).toContain(`dhcp-range=set:proxy,10.213.${2 * Number(env.NETBOOT_LAB_ID)}.0,proxy,255.255.255.252`);
        expect(adopted.stderr).toContain("dhcp-option=option:dns-server,");
        expect(adopted.stderr).toContain("(no interface=)");
        expect(adopted.stderr.match(/^adopt: not expressed:/gm)).toHaveLength(7);
    });

    it("the preview's rendered files adopt back to the same config with nothing left over (only the listed items change)", async () => {
        stack = await TestStack.create("adopt", adopted.config);
        const preview = JSON.parse((await stack.pulumi(["preview", "--json", "--diff"])).stdout) as {
            steps: Array<{ op: string; newState?: { type: string; inputs: Record<string, any> } }>;
        };
        const server = preview.steps.find((s) => s.newState?.type.endsWith("LtspServer"))!;
        const rendered = server.newState!.inputs.rendered as Record<string, string>;
        const facts = (ltspConf: string, dnsmasq: string): ServerFacts => ({
            ltspConf,
            dnsmasq,
            ipAddr: "",
            images: ["thin"],
            aptProxy: env.NETBOOT_LAB_APT_PROXY,
        });
        const hostAddresses = await labSsh("ip -o -4 addr show");
        const connection = adopted.config["netboot:server"] as { host: string };
        const fromHost = adoptServer(
            { ...facts(await labSsh("cat /etc/ltsp/ltsp.conf"), await labSsh("cat /etc/dnsmasq.d/ltsp-dnsmasq.conf")), ipAddr: hostAddresses },
            connection,
        );
        const fromPreview = adoptServer(
            { ...facts(rendered["/etc/ltsp/ltsp.conf"], rendered["/etc/dnsmasq.d/ltsp-dnsmasq.conf"]), ipAddr: hostAddresses },
            connection,
        );
        expect(fromPreview.config).toEqual(fromHost.config);
        expect(fromPreview.notExpressed).toEqual([]);
        // A new stack creates its resources (Pulumi has no state of them yet): the server and the two nodes.
        expect(preview.steps.filter((s) => s.op === "create").map((s) => s.newState?.type.split(":").pop())).toEqual(
            expect.arrayContaining(["NodeAssignment", "NodeAssignment", "LtspServer"]),
        );
    });

    it("up, then adopting the server again gives the same config with nothing listed; a second up changes nothing", async () => {
        await stack.up();
        const again = await adopt(env, join(work, "Pulumi.again.yaml"));
        expect(again.config).toEqual(adopted.config);
        expect(again.stderr).not.toMatch(/not expressed/);
        await stack.up();
        expect(await stack.lastChanges()).toEqual({ same: 4 });
    });
});
