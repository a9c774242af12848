import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adoptServer, stackConfigYaml } from "../../lib/adopt/adopt";
import { adoptDnsmasq, parseIpAddr } from "../../lib/adopt/dnsmasq";
import { adoptLtspConf, parseLtspConf, shellValue } from "../../lib/adopt/ltspConf";
import { LTSP_CONF, ltspConfLines } from "../../lib/ltsp/ltspConf";
import { DNSMASQ_CONF, renderServerFiles } from "../../lib/ltsp/serverPlan";
import { validateLtspServer } from "../../lib/ltsp/serverSpec";
import { TEST_KEY, TEST_PIN } from "./helpers";

const fixture = (name: string) => readFileSync(join(__dirname, "..", "fixtures", "adopt", name), "utf8");
const LAB_ADDRESSES = parseIpAddr(fixture("ip-addr.lab.txt"));

/** An administrator's ltsp.conf as ltsp.conf(5) documents the sections and parameters. */
const ADMIN_LTSP_CONF = `# /etc/ltsp/ltsp.conf, written by hand
[server]
MENU_TIMEOUT=5000
DEFAULT_IMAGE=thin

[common]
DNS_SERVER="10.0.0.53 10.0.0.54"

[clients]
KERNEL_PARAMETERS="quiet splash"
RELOGIN=1
FSTAB_HOME="server:/home /home nfs defaults 0 0"
POST_INIT_LN_XORG='ln -sf /etc/ltsp/xorg.conf /etc/X11/xorg.conf'

[52:54:00:00:01:01]
HOSTNAME=pc01
KERNEL_PARAMETERS="console=ttyS0"

[52:54:00:00:01:02]
HOSTNAME=pc02
DEFAULT_IMAGE=fat
MOSIX=N

[52:54:00:00:01:03]
DEFAULT_IMAGE=thin

[lab_printers]
X_MODES="1024x768"

[52:54:00:00:01:04]
HOSTNAME=pc04
PRE_INIT_HELLO="echo $(hostname)"
`;

describe("adopting ltsp.conf", () => {
    it("reads shell values as ltsp.conf writes them, refuses what only a shell could evaluate", () => {
        expect(shellValue("5000")).toBe("5000");
        expect(shellValue('"quiet splash"')).toBe("quiet splash");
        expect(shellValue("'a \"b\" $c'")).toBe('a "b" $c');
        expect(shellValue('"say \\"hi\\""')).toBe('say "hi"');
        expect(shellValue("$(hostname)")).toBeUndefined();
        expect(shellValue("two words")).toBeUndefined();
        expect(shellValue('"open')).toBeUndefined();
    });

    it("[server]/[common]/[clients] become typed fields, extra and commands; [MAC] sections become nodes", () => {
        const adopted = adoptLtspConf(ADMIN_LTSP_CONF, ["thin", "fat"]);
        expect(adopted.ltspConf).toEqual({
            server: { menuTimeout: 5000, defaultImage: "thin" },
            common: { dnsServers: ["10.0.0.53", "10.0.0.54"] },
            clients: {
                kernelParameters: "quiet splash",
                relogin: true,
                extra: { FSTAB_HOME: "server:/home /home nfs defaults 0 0" },
                commands: { POST_INIT_LN_XORG: "ln -sf /etc/ltsp/xorg.conf /etc/X11/xorg.conf" },
            },
        });
        // pc01 boots [server] DEFAULT_IMAGE (what LTSP's menu does for a section without one).
        expect(adopted.nodes).toEqual([
            { hostname: "pc01", mac: "52:54:00:00:01:01", image: "thin", kernelParameters: "console=ttyS0" },
            { hostname: "pc02", mac: "52:54:00:00:01:02", image: "fat", ltspConf: { MOSIX: "N" } },
            // Its command substitution is listed below; the rest of the section stands.
            { hostname: "pc04", mac: "52:54:00:00:01:04", image: "thin" },
        ]);
        expect(adopted.notExpressed.map((n) => `${n.where}: ${n.text}`)).toEqual([
            '/etc/ltsp/ltsp.conf line 32: PRE_INIT_HELLO="echo $(hostname)"',
            "/etc/ltsp/ltsp.conf [52:54:00:00:01:03]: DEFAULT_IMAGE=thin",
            "/etc/ltsp/ltsp.conf [lab_printers]: X_MODES=1024x768",
        ]);
        expect(adopted.notExpressed[1].why).toBe("a node needs HOSTNAME");
        expect(parseLtspConf(ADMIN_LTSP_CONF).sections.get("52:54:00:00:01:04")).toEqual([{ key: "HOSTNAME", value: "pc04", line: 31 }]);
    });
});

describe("reading ltsp.conf (one reader for adopt and the PR report)", () => {
    const conf = "X=0\n# note\n[Clients]\nA=1\n\n[52:54:00:00:01:01]\nHOSTNAME=pc01\n[clients]\nB=$(date)\n";

    it('sections in lower case, their lines in order with line numbers; lines before any header under ""', () => {
        expect([...ltspConfLines(conf)]).toEqual([
            ["", [{ text: "X=0", line: 1 }]],
            [
                "clients",
                [
                    { text: "A=1", line: 4 },
                    { text: "B=$(date)", line: 9 },
                ],
            ],
            ["52:54:00:00:01:01", [{ text: "HOSTNAME=pc01", line: 7 }]],
        ]);
    });

    it("adopt's parse: assignments by section; what is no plain assignment, or stands before any header, unparsed in file order", () => {
        const parsed = parseLtspConf(conf);
        expect([...parsed.sections]).toEqual([
            ["clients", [{ key: "A", value: "1", line: 4 }]],
            ["52:54:00:00:01:01", [{ key: "HOSTNAME", value: "pc01", line: 7 }]],
        ]);
        expect(parsed.unparsed).toEqual([
            { line: 1, text: "X=0" },
            { line: 9, text: "B=$(date)" },
        ]);
    });
});

describe("adopting passwords (issue 17, 2: scripts/adopt never writes a secret in plain text)", () => {
    it("PASSWORDS_x (ltsp.conf(5): user/base64 password pairs) is listed as [secret], never carried into the config or the list", () => {
        const conf =
            '[clients]\nPASSWORDS_LAB="pupil01/cGFzc3dvcmQ= pupil02/c2VjcmV0"\nRELOGIN=1\n[52:54:00:00:01:01]\nHOSTNAME=pc01\nPASSWORDS_PC="guest/Z3Vlc3Q="\n';
        const adopted = adoptLtspConf(conf, ["thin"]);
        expect(adopted.ltspConf.clients).toEqual({ relogin: true });
        expect(adopted.nodes).toEqual([{ hostname: "pc01", mac: "52:54:00:00:01:01", image: "thin" }]);
        expect(adopted.notExpressed.map((n) => `${n.where}: ${n.text}`)).toEqual([
            "/etc/ltsp/ltsp.conf line 2 [clients]: PASSWORDS_LAB=[secret]",
            "/etc/ltsp/ltsp.conf line 6 [52:54:00:00:01:01]: PASSWORDS_PC=[secret]",
        ]);
        for (const secret of ["cGFzc3dvcmQ=", "c2VjcmV0", "Z3Vlc3Q="]) expect(JSON.stringify(adopted)).not.toContain(secret);
    });
});

describe("adopting the dnsmasq config `ltsp dnsmasq` writes (fixtures from the real tool)", () => {
    it("proxy mode on every routed subnet: the LAN is the range not on the SSH link; the rest is listed", () => {
        const adopted = adoptDnsmasq(fixture("ltsp-dnsmasq.proxy.conf"), LAB_ADDRESSES, { sshAddress: "10.213.6.2" });
        expect(adopted.lan).toEqual({ interface: "pxebr3", address: "10.213.7.1/24" });
        expect(adopted.dhcp).toEqual({ mode: "proxy" });
        // From LTSP's template: three dhcp-mac and one pxe-service line for the Raspberry Pi, the
        // proxy range on the SSH link, the DNS option (proxyDHCP sends no options), and no interface=.
        expect(adopted.notExpressed.map((n) => n.text)).toEqual([
            "dhcp-mac=set:rpi,b8:27:eb:*:*:*",
            "dhcp-mac=set:rpi,dc:a6:32:*:*:*",
            "dhcp-mac=set:rpi,e4:5f:01:*:*:*",
            'pxe-service=tag:rpi,X86PC,"Raspberry Pi Boot   ",unused',
            "(no interface=)",
            "dhcp-range=set:proxy,10.213.6.0,proxy,255.255.255.252",
            "dhcp-option=option:dns-server,8.8.8.8,208.67.222.222",
        ]);
    });

    it("real DHCP (LTSP's 192.168.67.20-250 for 12h, --dns-server) on a two-NIC server", () => {
        const addresses = parseIpAddr(
            "2: enp2s0    inet 192.168.67.1/24 brd 192.168.67.255 scope global enp2s0\n1: eth0    inet 10.1.2.3/24 scope global eth0\n",
        );
        const adopted = adoptDnsmasq(fixture("ltsp-dnsmasq.real-dhcp.conf"), addresses, { sshAddress: "10.1.2.3" });
        expect(adopted.lan).toEqual({ interface: "enp2s0", address: "192.168.67.1/24" });
        expect(adopted.dhcp).toEqual({
            mode: "full",
            rangeStart: "192.168.67.20",
            rangeEnd: "192.168.67.250",
            leaseTime: "12h",
            dnsServers: ["10.0.0.53", "10.0.0.54"],
        });
        expect(adopted.notExpressed.map((n) => n.text)).not.toContain("dhcp-option=option:dns-server,10.0.0.53,10.0.0.54");
    });

    it("unknown settings, tagged options and reservations of no node are listed, never dropped silently", () => {
        const text =
            "port=0\nenable-tftp\ntftp-root=/srv/tftp\ndhcp-range=10.213.7.100,10.213.7.150\nlog-dhcp\ndhcp-option=tag:foo,option:ntp-server,10.0.0.1\n";
        const adopted = adoptDnsmasq(text, LAB_ADDRESSES, { sshAddress: "10.213.6.2" });
        // dnsmasq's default lease is one hour (man dnsmasq, --dhcp-range).
        expect(adopted.dhcp).toEqual({ mode: "full", rangeStart: "10.213.7.100", rangeEnd: "10.213.7.150", leaseTime: "1h" });
        expect(adopted.notExpressed.map((n) => n.text)).toEqual(["log-dhcp", "dhcp-option=tag:foo,option:ntp-server,10.0.0.1", "(no interface=)"]);
    });
});

describe("adoption round trip: server files -> stack config -> the files the stack renders -> the same config", () => {
    const connection = { host: "10.213.6.2", user: "root", privateKeyFile: "/k", knownHostsFile: "/kh" };
    const facts = {
        ltspConf: ADMIN_LTSP_CONF,
        dnsmasq: `${fixture("ltsp-dnsmasq.real-dhcp.conf").replace("192.168.67.20,192.168.67.250", "10.213.7.20,10.213.7.90")}dhcp-host=52:54:00:00:01:02,10.213.7.12\n`,
        ipAddr: fixture("ip-addr.lab.txt"),
        images: ["thin", "fat"],
        aptProxy: "http://10.213.6.1:3142/",
    };

    it("the config validates as LtspServer inputs and what it renders adopts back to the same config, with nothing left over", () => {
        const adoption = adoptServer(facts, connection);
        expect(adoption.config).toMatchObject({
            site: "lab",
            server: connection,
            aptProxy: "http://10.213.6.1:3142",
            lan: { interface: "pxebr3", address: "10.213.7.1/24" },
            dhcp: { mode: "full", rangeStart: "10.213.7.20", rangeEnd: "10.213.7.90", leaseTime: "12h", dnsServers: ["10.0.0.53", "10.0.0.54"] },
            servedImages: ["thin", "fat"],
        });
        expect((adoption.config.nodes as Array<{ hostname: string; ip?: string }>).map((n) => [n.hostname, n.ip])).toEqual([
            ["pc01", undefined],
            ["pc02", "10.213.7.12"],
            ["pc04", undefined],
        ]);

        // What the lab site passes to LtspServer (stacks/lab.ts), checked by the resource's own validation.
        const c = adoption.config as Record<string, any>;
        const inputs = {
            connection: { host: c.server.host, privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
            aptProxy: c.aptProxy,
            lan: c.lan,
            dhcp: c.dhcp,
            ltspConf: c.ltspConf,
            images: c.servedImages,
            nodes: c.nodes.map((n: Record<string, unknown>) => ({ nodeName: n.hostname, ...n })),
        };
        const validated = validateLtspServer(inputs);
        if (!validated.ok) throw new Error(validated.failures.map((f) => f.reason).join("\n"));
        const rendered = Object.fromEntries(renderServerFiles(validated.spec, "adopt-test").map((f) => [f.path, f.content]));

        const again = adoptServer({ ...facts, ltspConf: rendered[LTSP_CONF], dnsmasq: rendered[DNSMASQ_CONF] }, connection);
        expect(again.config).toEqual(adoption.config);
        expect(again.notExpressed).toEqual([]);
    });

    it("the stack config file lists what is not expressed above the config", () => {
        const yaml = stackConfigYaml(adoptServer(facts, connection), "root@10.213.6.2");
        expect(yaml).toMatch(/^# Adopted from root@10.213.6.2 by scripts\/adopt/);
        expect(yaml).toContain("#   /etc/ltsp/ltsp.conf [lab_printers]: X_MODES=1024x768");
        expect(yaml).toContain("\nconfig:\n  netboot:site: lab\n");
    });
});
