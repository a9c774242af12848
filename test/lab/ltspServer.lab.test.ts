import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
    dhcpProbe,
    hostChecksums,
    labSsh,
    labStackConfig,
    labUp,
    labWriteFile,
    mutationCount,
    readPrivateKey,
    sshLogins,
    TestStack,
} from "./harness";

const LTSP_CONF = "/etc/ltsp/ltsp.conf";
const DNSMASQ_CONF = "/etc/dnsmasq.d/ltsp-dnsmasq.conf";
const APT_PROXY_CONF = "/etc/apt/apt.conf.d/01netboot-proxy";
const MANAGED = [LTSP_CONF, DNSMASQ_CONF, APT_PROXY_CONF];
const TFTP = ["/srv/tftp/ltsp/ltsp.ipxe", "/srv/tftp/ltsp/undionly.kpxe", "/srv/tftp/ltsp/snponly.efi", "/srv/tftp/ltsp/ltsp.img"];
/** What the administrator had in ltsp.conf before this stack took the server over. */
const ORIGINAL_LTSP_CONF = "# the administrator's own ltsp.conf, before Pulumi\n[clients]\nRELOGIN=1\n";

/** ctime and inode of each path, plus dnsmasq's main PID: unchanged means nothing touched them. */
function hostFingerprint(): Promise<string> {
    return labSsh(`stat -c '%n %i %Z' ${MANAGED.join(" ")} ${TFTP.join(" ")}; systemctl show -p MainPID -p ExecMainStartTimestamp dnsmasq`);
}

function keyFragments(key: string): string[] {
    return key.split("\n").filter((line) => line.length >= 20 && !line.startsWith("-----"));
}

describe("LtspServer against the lab host, through the real Pulumi CLI", () => {
    let stack: TestStack;
    let env: Record<string, string>;
    let privateKey: string;

    beforeAll(async () => {
        // A pristine server disk, so the first `up` installs everything over the apt proxy.
        env = await labUp(true);
        privateKey = readPrivateKey(env);
        await labWriteFile(LTSP_CONF, ORIGINAL_LTSP_CONF);
        stack = await TestStack.create("ltsp-server", labStackConfig(env));
    });

    it("up: packages, rendered ltsp.conf and dnsmasq config, dnsmasq active, the iPXE menu in TFTP", async () => {
        const logins = await sshLogins();
        const run = await stack.up();
        // One connection for the whole run, however many commands went over it.
        expect((await sshLogins()) - logins - 1).toBe(1);
        expect(run.output).toMatch(/install ltsp ipxe dnsmasq/);
        const outputs = (await stack.outputs()).server;
        const onHost = await hostChecksums([...MANAGED, ...TFTP]);
        for (const path of MANAGED) expect(onHost[path]).toBe(outputs.managedFiles[path].sha256);
        for (const path of TFTP) expect(onHost[path]).not.toBe("missing");
        expect(outputs.services.dnsmasq).toEqual({ active: "active", enabled: "enabled" });
        expect(outputs.ltspVersion).toMatch(/^23\./);
        const conf = await labSsh(`cat ${LTSP_CONF}`);
        expect(conf).toContain("[server]\nMENU_TIMEOUT=5000");
        expect(conf).toContain('[clients]\nKERNEL_PARAMETERS="quiet"');
        expect(await labSsh(`cat ${DNSMASQ_CONF}`)).toContain(
            `dhcp-range=set:ltsp,${env.NETBOOT_LAB_DHCP_RANGE_START},${env.NETBOOT_LAB_DHCP_RANGE_END},255.255.255.0,1h`,
        );
        expect((await labSsh("systemctl is-active dnsmasq")).trim()).toBe("active");
        // ltsp ipxe read the [server] section: the menu timeout reached the iPXE script.
        expect((await labSsh("grep -c 'set menu-timeout 5000' /srv/tftp/ltsp/ltsp.ipxe")).trim()).toBe("1");
    });

    it("a busybox udhcpc client in its own namespace gets a lease with the LTSP boot file", async () => {
        const bios = await dhcpProbe("52:54:00:10:00:01", 0);
        // The lab's range is .100-.199 of its LAN (netboot-lab), the server .1.
        const lan = env.NETBOOT_LAB_SERVER_LAN_ADDR.split(".").slice(0, 3).join(".");
        expect(bios.ip.startsWith(`${lan}.`) && Number(bios.ip.split(".")[3]) >= 100 && Number(bios.ip.split(".")[3]) <= 199).toBe(true);
        expect(bios.siaddr).toBe(env.NETBOOT_LAB_SERVER_LAN_ADDR);
        expect(bios.bootfile || bios.boot_file).toBe("ltsp/undionly.kpxe");
        const uefi = await dhcpProbe("52:54:00:10:00:02", 7);
        expect(uefi.bootfile || uefi.boot_file).toBe("ltsp/snponly.efi");
    });

    it("a second up reports no changes and sends the host no mutating command", async () => {
        const before = { mutations: await mutationCount(), host: await hostFingerprint(), logins: await sshLogins() };
        const run = await stack.up();
        expect((await sshLogins()) - before.logins - 1).toBe(0);
        expect(await stack.lastChanges()).toEqual({ same: 2 });
        expect(run.output).not.toMatch(/\bupdated\b|\bcreated\b/);
        expect(await mutationCount()).toBe(before.mutations);
        expect(await hostFingerprint()).toBe(before.host);
    });

    it("a hand edit of ltsp.conf shows in refresh and the next up repairs it", async () => {
        const rendered = await labSsh(`cat ${LTSP_CONF}`);
        await labSsh(`echo 'HAND_EDIT=1' >> ${LTSP_CONF}`);
        const refresh = await stack.refresh();
        expect(refresh.output).toContain("HAND_EDIT=1");
        expect(refresh.output).toMatch(/~ .*ltsp-server.*update|ltsp-server.*\[diff/s);
        await stack.up();
        expect(await labSsh(`cat ${LTSP_CONF}`)).toBe(rendered);
        expect((await stack.lastChanges()).update).toBe(1);
    });

    it("a stopped and disabled dnsmasq shows in refresh and the next up starts it", async () => {
        await labSsh("systemctl disable --now dnsmasq 2>/dev/null");
        const refresh = await stack.refresh();
        expect(refresh.output).toMatch(/active\s*:\s*"active"\s*=>\s*"inactive"/);
        await stack.up();
        expect((await labSsh("systemctl is-active dnsmasq; systemctl is-enabled dnsmasq")).trim().split("\n")).toEqual(["active", "enabled"]);
    });

    it("a failed apply puts every file back as it was, and the next up converges", async () => {
        const before = await hostChecksums(MANAGED);
        // Break a step after the files are written: `ltsp ipxe` cannot run.
        await labSsh("chmod -x /usr/sbin/ltsp");
        await stack.setConfig("ltspConf.server.menuTimeout", "4000");
        const failed = await stack.up({ allowFailure: true });
        expect(failed.code).not.toBe(0);
        expect(failed.output).toContain(`Restored the previous ${LTSP_CONF}`);
        expect(await hostChecksums(MANAGED)).toEqual(before);
        await labSsh("chmod +x /usr/sbin/ltsp");
        await stack.up();
        expect(await labSsh(`grep -c MENU_TIMEOUT=4000 ${LTSP_CONF}`)).toBe("1\n");
        expect(await labSsh("grep -c 'set menu-timeout 4000' /srv/tftp/ltsp/ltsp.ipxe")).toBe("1\n");
        await stack.setConfig("ltspConf.server.menuTimeout", "5000");
        await stack.up();
    });

    it("bad input fails at preview with the field and value, and the host is untouched", async () => {
        const before = { sums: await hostChecksums([...MANAGED, ...TFTP]), mutations: await mutationCount() };
        // TEST-NET-1: outside every lab instance's LAN.
        await stack.setConfig("dhcp.rangeEnd", "192.0.2.50");
        const preview = await stack.preview({ allowFailure: true });
        expect(preview.code).not.toBe(0);
        const subnet = `${env.NETBOOT_LAB_SERVER_LAN_ADDR.split(".").slice(0, 3).join(".")}.0/${env.NETBOOT_LAB_LAN_PREFIX}`;
        expect(preview.output).toContain(`dhcp.rangeEnd: "192.0.2.50" is outside the LAN subnet ${subnet}`);
        const up = await stack.up({ allowFailure: true });
        expect(up.code).not.toBe(0);
        await stack.setConfig("dhcp.rangeEnd", env.NETBOOT_LAB_DHCP_RANGE_END);
        await stack.setConfig("ltspConf.clients.kernelParameters", "quiet; rm -rf /");
        const shell = await stack.preview({ allowFailure: true });
        expect(shell.output).toContain(`ltspConf.clients.kernelParameters: "quiet; rm -rf /" contains ';'`);
        await stack.setConfig("ltspConf.clients.kernelParameters", "quiet");
        expect(await hostChecksums([...MANAGED, ...TFTP])).toEqual(before.sums);
        expect(await mutationCount()).toBe(before.mutations);
    });

    it("the private key appears nowhere: not in stack export, preview, up or refresh output", async () => {
        const fragments = keyFragments(privateKey);
        expect(fragments.length).toBeGreaterThan(2);
        await stack.setConfig("ltspConf.server.menuTimeout", "3000");
        const texts = {
            preview: (await stack.preview()).output,
            up: (await stack.up()).output,
            refresh: (await stack.refresh()).output,
            export: await stack.exportState(),
            hostLog: await labSsh("cat /var/log/netboot/mutations.log"),
        };
        for (const [name, text] of Object.entries(texts)) {
            for (const fragment of fragments) expect(text.includes(fragment), `${name} contains the key`).toBe(false);
        }
        // The key is in the state, encrypted: a secret, not a missing value.
        expect(texts.export).toMatch(/"privateKey":\s*\{\s*"4dabf18193072939515e22adb298388d":\s*"1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/);
    });

    it("a wrong host key pin is refused before anything is sent", async () => {
        const before = await mutationCount();
        const wrongPin = `SHA256:${createHash("sha256").update("not the lab").digest("base64").replace(/=+$/, "")}`;
        const other = await TestStack.create(
            "wrong-pin",
            labStackConfig(env, {
                server: { host: env.NETBOOT_LAB_HOST, privateKeyFile: env.NETBOOT_LAB_KEY, hostKeyFingerprint: wrongPin },
            }),
        );
        const run = await other.up({ allowFailure: true });
        expect(run.code).not.toBe(0);
        expect(run.output).toContain(`but connection.hostKeyFingerprint pins ${wrongPin}: refusing to connect`);
        expect(await mutationCount()).toBe(before);
    });

    it("links an NFS root to itself as 000, for root paths that Windows DHCP hands out with a NUL", async () => {
        await labSsh("mkdir -p /srv/ltsp/i386");
        await stack.pulumi(["config", "set", "--path", "netboot:nulSuffixLinks[0]", "/srv/ltsp/i386"]);
        await stack.up();
        expect((await labSsh("readlink /srv/ltsp/i386/000")).trim()).toBe("/srv/ltsp/i386");
        // "/ltsp/i386/" + NUL reaches the NFS server as /ltsp/i386/000: the root itself.
        expect((await labSsh("cd /srv/ltsp/i386/000 && pwd -P")).trim()).toBe("/srv/ltsp/i386");
        expect((await stack.up()).output).not.toMatch(/link NUL|updated/);
    });

    it("destroy removes what it created and puts back what it replaced", async () => {
        await stack.destroy();
        const sums = await hostChecksums([...MANAGED, ...TFTP]);
        expect(sums[DNSMASQ_CONF]).toBe("missing");
        expect(sums[APT_PROXY_CONF]).toBe("missing");
        for (const path of TFTP) expect(sums[path]).toBe("missing");
        expect(await labSsh(`cat ${LTSP_CONF}`)).toBe(ORIGINAL_LTSP_CONF);
        expect(await labSsh("ls -A /srv/ltsp/i386")).toBe("");
        // Packages stay unless asked.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${Status} format
        expect(await labSsh("dpkg-query -W -f='${Status}' ltsp")).toBe("install ok installed");
    });
});
