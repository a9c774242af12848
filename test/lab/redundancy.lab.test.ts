// biome-ignore-all lint/suspicious/noTemplateCurlyInString: iPXE scripts name their settings ${like_this}; these strings are iPXE, not templates
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { labPower, labSsh, labUp, parseKeyValues, pxeBootUntil, ROOT, run, serialLoginLtspConf, TestStack } from "./harness";
import { expectBooted, image } from "./showImage";

/**
 * Redundant boot servers (seed 000) at a site whose DHCP server is Microsoft's (seeds 001/002):
 *
 * - the lab server (ltsp-a) and lab host h1 (ltsp-b) are two LtspServers of the "redundant" site,
 *   both proxyDHCP on the PXE LAN, each building and serving the same image over NBD;
 * - lab host h2 is the site's DHCP server: busybox udhcpd hands out the addresses and sends the
 *   root path (option 17) with the trailing NUL Windows DHCP appends (test/lab/fixtures/site-dhcp-udhcpd.sh);
 * - the client has no NodeAssignment: the root path alone names its image, through the menu's
 *   byte-wise match (templates/ltsp.ipxe.hbs). The site's default entry is the local disk, so a root
 *   path the menu failed to match would not boot the image.
 *
 * One client boots twice: with ltsp-a stopped (so from h1), then with h1 stopped (from ltsp-a),
 * each time to its image's marker line and login. Each boot also proves the NUL quirk.
 */
const CLIENT_MAC = "52:54:00:c4:00:01";
const PROBE_MAC = "52:54:00:c4:00:02";
const IMAGE = "thin-r";
/** "thin-r" and the NUL Windows DHCP appends, in hex by hand: t 74, h 68, i 69, n 6e, - 2d, r 72, NUL 00. */
const ROOT_PATH_HEX = "74:68:69:6e:2d:72:00";
const LOGIN = "login:";

describe("redundant boot servers beside a Windows-like DHCP server: a client boots its image with either server stopped", () => {
    const started = Date.now();
    let env: Record<string, string>;
    let stack: TestStack;
    let config: Record<string, unknown>;

    beforeAll(async () => {
        env = await labUp(true, { hosts: 2 });
        const lanIf = (host: string, address: string) =>
            labSsh(`ip -o -4 addr show to ${address} | awk '{ print $2 }'`, host).then((out) => out.trim());
        const [h1If, h2If] = await Promise.all([lanIf("h1", env.NETBOOT_LAB_H1_LAN_ADDR), lanIf("h2", env.NETBOOT_LAB_H2_LAN_ADDR)]);
        // h2: the site's DHCP server, the root path sent as raw bytes with the trailing NUL.
        const siteDhcp = await run(
            join(ROOT, "lab", "netboot-lab"),
            [
                "ssh",
                "--host",
                "h2",
                "sh",
                "-s",
                "--",
                h2If,
                env.NETBOOT_LAB_DHCP_RANGE_START,
                env.NETBOOT_LAB_DHCP_RANGE_END,
                "255.255.255.0",
                env.NETBOOT_LAB_LAN_ROUTER,
                ROOT_PATH_HEX.replaceAll(":", ""),
                env.NETBOOT_LAB_APT_PROXY,
            ],
            { input: readFileSync(join(ROOT, "test", "lab", "fixtures", "site-dhcp-udhcpd.sh"), "utf8") },
        );
        expect(siteDhcp.output).toContain("active");
        const server = (host: string) => ({
            host,
            user: env.NETBOOT_LAB_USER,
            privateKeyFile: env.NETBOOT_LAB_KEY,
            knownHostsFile: env.NETBOOT_LAB_KNOWN_HOSTS,
        });
        config = {
            site: "redundant",
            servers: [
                {
                    name: "ltsp-a",
                    server: server(env.NETBOOT_LAB_HOST),
                    lan: { interface: env.NETBOOT_LAB_BRIDGE, address: `${env.NETBOOT_LAB_SERVER_LAN_ADDR}/${env.NETBOOT_LAB_LAN_PREFIX}` },
                },
                {
                    name: "ltsp-b",
                    server: server(env.NETBOOT_LAB_H1_ADDR),
                    lan: { interface: h1If, address: `${env.NETBOOT_LAB_H1_LAN_ADDR}/${env.NETBOOT_LAB_LAN_PREFIX}` },
                },
            ],
            aptProxy: env.NETBOOT_LAB_APT_PROXY,
            images: [image("r")],
            ltspConf: serialLoginLtspConf(1000),
            // A client whose root path names no served image would try the local disk, not the image.
            boot: { rootTransport: "nbd", http: true, defaultEntry: "disk" },
        };
        stack = await TestStack.create("redundant", config);
    });

    it("two servers both handing out addresses on the LAN fail at preview, naming the field", async () => {
        const servers = config.servers as Array<Record<string, unknown>>;
        stack.writeConfig({ ...config, servers: servers.map((s) => ({ ...s, dhcp: { mode: "full" } })) });
        const preview = await stack.preview({ allowFailure: true });
        stack.writeConfig(config);
        expect(preview.code).not.toBe(0);
        expect(preview.output).toContain('netboot:servers.1.dhcp.mode: "full" hands out addresses, as servers[0] (ltsp-a) already does on this LAN');
    });

    it("up: each server builds the image and serves it as proxyDHCP over NBD; the client's DHCP answer carries the root path with a NUL", async () => {
        const upStarted = Date.now();
        await stack.up();
        console.log(`up (two servers, one image each, built side by side): ${((Date.now() - upStarted) / 1000).toFixed(0)} s`);
        for (const host of [undefined, "h1"]) {
            expect(await labSsh("systemctl is-active dnsmasq nbd-server lighttpd", host)).toBe("active\nactive\nactive\n");
            expect(await labSsh("grep -c ',proxy,' /etc/dnsmasq.d/ltsp-dnsmasq.conf", host)).toBe("1\n");
            expect(await labSsh(`test -s /srv/ltsp/images/${IMAGE}.img && echo served`, host)).toBe("served\n");
        }
        // What a client gets from the site's DHCP server, byte by byte (the DHCPACK read off the wire).
        // As a plain DHCP client (not PXEClient), so the proxies stay silent: busybox udhcpc knows no
        // proxyDHCP and asks a proxy's offer for 0.0.0.0 ("broadcasting select for 0.0.0.0, server 10.213.9.11").
        const probed = await run(join(ROOT, "lab", "netboot-lab"), ["dhcp-probe", "--mac", PROBE_MAC, "--vendor-class", "netboot-probe"]);
        expect(probed.code, probed.output).toBe(0);
        const probe = parseKeyValues(probed.stdout);
        console.log(`dhcp-probe ${PROBE_MAC}: rootpath=${probe.rootpath} raw_option_17=${probe.raw_option_17} (server ${probe.serverid})`);
        expect(probe.raw_option_17).toBe(ROOT_PATH_HEX);
        expect(probe.serverid).toBe(env.NETBOOT_LAB_H2_LAN_ADDR);
    });

    it("with ltsp-a stopped, the client boots its image from ltsp-b; then with ltsp-b stopped, from ltsp-a", async () => {
        const until = [`netboot-show: image=${IMAGE} hostname=`, LOGIN];
        await labPower("stop", "server");
        const fromB = await pxeBootUntil(CLIENT_MAC, { until });
        await labPower("start", "server");
        expectBooted(fromB, "ltsp-a stopped (boots from ltsp-b, h1)");
        await labPower("stop", "h1");
        // The server's units start with it; wait until it serves again.
        await labSsh("for i in $(seq 60); do systemctl is-active -q dnsmasq nbd-server lighttpd && exit 0; sleep 1; done; exit 1");
        const fromA = await pxeBootUntil(CLIENT_MAC, { until });
        await labPower("start", "h1");
        expectBooted(fromA, "ltsp-b stopped (boots from ltsp-a, the lab server)");
        for (const [result, lan] of [
            [fromB, env.NETBOOT_LAB_H1_LAN_ADDR],
            [fromA, env.NETBOOT_LAB_SERVER_LAN_ADDR],
        ] as const) {
            // iPXE's own view of option 17: the raw bytes, NUL included, and the image they name.
            expect(result.console).toContain(`netboot: root path (DHCP option 17) as received, hex: ${ROOT_PATH_HEX}`);
            expect(result.console).not.toContain("names no image served here");
            expect(result.console).toContain(`http://${lan}/ltsp/${IMAGE}/vmlinuz`);
            expect(result.console).toMatch(new RegExp(`Command line:.* root=/dev/nbd0 nbdroot=${lan.replaceAll(".", "\\.")},${IMAGE},nbd0`));
        }
        console.log(`redundancy.lab.test.ts so far: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    });
});
