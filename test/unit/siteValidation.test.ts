import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { validateRepository } from "../../lib/clonezilla/repositorySpec";
import { loginAccount, ownedDirectory } from "../../lib/core/fields";
import { validateNode } from "../../lib/core/node";
import { validateScope } from "../../lib/dhcp/scopeSpec";
import { loadPlacedInventory } from "../../lib/inventory";
import { menuEntrySchema } from "../../lib/ltsp/bootMenu";
import { validateLtspServer } from "../../lib/ltsp/serverSpec";
import { validateCluster } from "../../lib/slurm/clusterSpec";
import { readInventoryFile, readSiteConfig, scopeConnection, siteNodes } from "../../stacks/config";
import { labConfig } from "../../stacks/lab";
import { balanceParameterFailures, schoolConfig } from "../../stacks/school";
import { slurmSiteSchema } from "../../stacks/slurm";
import { TEST_KEY, TEST_PIN, validScopeInputs, validServerInputs } from "./helpers";

/**
 * Issue 17, "accounts and paths that stay where they belong": what a new user's bad config
 * would do to a server is refused at preview, one line naming the field and the value.
 */

const connection = { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN };
const repository = (extra: Record<string, unknown>) =>
    validateRepository({ connection, clientNetworks: ["10.213.1.0/24"], server: "10.213.1.1", clients: ["any"], ...extra });
const cluster = (extra: Record<string, unknown>) =>
    validateCluster({ connection, controllerAddress: "10.213.1.1", clientNetwork: "10.213.1.0/24", mungeKey: "k".repeat(40), ...extra });
const reasons = (r: { ok: true } | { ok: false; failures: { reason: string }[] }) => (r.ok ? [] : r.failures.map((f) => f.reason));

describe("a directory a resource takes over is never a system location", () => {
    // An admin's view of a Debian server: these hold the OS, its state, or every user's files.
    const refused = [
        "/",
        "/etc",
        "/etc/ssh",
        "/tmp",
        "/tmp/images",
        "/var/tmp",
        "/usr",
        "/usr/local/share/images",
        "/boot",
        "/root",
        "/home",
        "/srv",
        "/var",
        "/var/lib",
        "/var/log",
        "/var/lib/dpkg",
        "/var/lib/netboot",
        "/var/lib/netboot/render",
        "/srv/ltsp",
        "/srv/ltsp/images",
        "/srv/tftp",
        "/srv/tftp/ltsp",
        "/lib64",
        "/proc/1",
        "/sys",
        "/dev/shm",
        "/run/user",
    ];
    // A site's own directories: below /srv, /home, /var/lib, or a data disk.
    const accepted = ["/srv/partimag", "/srv/render", "/srv/ltsp-backup", "/home/partimag", "/var/lib/partimag", "/data/images", "/srv/tftpdata"];

    it.each(refused)("%s is refused, naming the system location", (path) => {
        const result = ownedDirectory.safeParse(path);
        expect(result.success).toBe(false);
        expect(result.error?.issues[0].message).toMatch(/^is a system location \(/);
    });

    it.each(accepted)("%s is a directory of its own", (path) => {
        expect(ownedDirectory.safeParse(path).success).toBe(true);
    });

    it("a path that hides where it is (.., ., //, a trailing /) is refused: /srv/../etc is /etc", () => {
        for (const path of ["/srv/../etc", "/srv/./partimag", "/srv//partimag", "/srv/partimag/", "srv/partimag", "/srv/part image"]) {
            expect(ownedDirectory.safeParse(path).success, path).toBe(false);
        }
    });

    it("Clonezilla repository: /tmp (whose mode the setup would change) is one line naming the field and value", () => {
        expect(reasons(repository({ repository: "/tmp" }))).toEqual([
            'repository: "/tmp" is a system location (/tmp and everything below it belong to the system); choose a directory of its own, like /srv/NAME',
        ]);
        expect(reasons(repository({ repository: "/srv/../etc" }))[0]).toMatch(/^repository: "\/srv\/\.\.\/etc" is not a plain path/);
        expect(reasons(repository({ repository: "/srv/partimag" }))).toEqual([]);
    });

    it("a cluster's outputDir: /etc (which would become a writable rsync module) is refused", () => {
        expect(reasons(cluster({ outputDir: "/etc" }))).toEqual([
            'outputDir: "/etc" is a system location (/etc and everything below it belong to the system); choose a directory of its own, like /srv/NAME',
        ]);
        expect(reasons(cluster({ outputDir: "/srv" }))[0]).toMatch(/^outputDir: "\/srv" is a system location \(\/srv itself\)/);
        expect(reasons(cluster({}))).toEqual([]);
    });
});

describe("an account others log in to is never a system account", () => {
    // base-passwd's static accounts (Debian's /usr/share/base-passwd/passwd.master), and
    // Debian's naming of system users ("_apt", "systemd-network").
    it.each(["root", "daemon", "bin", "sys", "nobody", "www-data", "_apt", "systemd-network", "sshd", "munge"])("%s is refused", (name) => {
        const result = loginAccount.safeParse(name);
        expect(result.success).toBe(false);
        expect(result.error?.issues[0].message).toMatch(/^is a system account/);
    });

    it("clonezilla.account root (which would lock the stack out of its server) is one line naming the field", () => {
        expect(reasons(repository({ account: "root" }))).toEqual([expect.stringMatching(/^account: "root" is a system account: /)]);
        expect(reasons(repository({ account: "partimag" }))).toEqual([]);
        expect(reasons(repository({ account: "imaging" }))).toEqual([]);
    });
});

describe("a secret given as plain config is refused, its value never shown", () => {
    const schema = z.object({ site: z.literal("render") }).strict();
    const MUNGE_KEY = "k".repeat(40);
    beforeAll(() => {
        // The stack name the messages give (Pulumi.render.yaml); the mocks are never called.
        pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "netboot", "render");
    });
    // As the language host passes config: values decrypted, PULUMI_CONFIG_SECRET_KEYS naming the secret ones.
    const read = (config: Record<string, string>, secretKeys: string[]) => {
        pulumi.runtime.setAllConfig({ "netboot:site": "render", ...config }, secretKeys);
        try {
            readSiteConfig(schema, ["privateKey", "mungeKey"]);
            return "";
        } catch (err) {
            return (err as Error).message;
        }
    };

    it("a plain mungeKey: the command that sets it as a secret, and neither it nor its length", () => {
        const message = read({ "netboot:mungeKey": "abc" }, []);
        expect(message).toBe(
            "stack config: netboot:mungeKey is stored in plain text in Pulumi.render.yaml; set it as a secret: pulumi config set --secret netboot:mungeKey <value>",
        );
        expect(message).not.toContain("abc");
    });

    it("a plain privateKey is refused the same way, without its text", () => {
        const message = read({ "netboot:privateKey": TEST_KEY, "netboot:mungeKey": MUNGE_KEY }, ["netboot:mungeKey"]);
        expect(message).toBe(
            "stack config: netboot:privateKey is stored in plain text in Pulumi.render.yaml; set it as a secret: pulumi config set --secret netboot:privateKey <value>",
        );
    });

    it("secrets stored as secrets pass; one too short is named, shown as [secret]", () => {
        expect(read({ "netboot:privateKey": TEST_KEY, "netboot:mungeKey": MUNGE_KEY }, ["netboot:privateKey", "netboot:mungeKey"])).toBe("");
        expect(read({ "netboot:mungeKey": MUNGE_KEY }, ["netboot:mungeKey"])).toBe("");
        const short = read({ "netboot:mungeKey": "abc" }, ["netboot:mungeKey"]);
        expect(short).toBe(
            "stack config: netboot:mungeKey: [secret] is shorter than 32 bytes (munged refuses it); make a random one: openssl rand -base64 48",
        );
    });

    it("a secret privateKey that is no key is named, its text not shown", () => {
        const message = read({ "netboot:privateKey": "hunter2-not-a-key" }, ["netboot:privateKey"]);
        expect(message).toMatch(/^stack config: netboot:privateKey: \[secret\] does not parse as an SSH private key/);
        expect(message).not.toContain("hunter2");
    });
});

describe("values that reach iPXE or dnsmasq keep their meaning", () => {
    const node = (extra: Record<string, unknown>) =>
        validateNode({ nodeName: "pc1", mac: "52:54:00:00:01:01", hostname: "pc1", image: "thin", ...extra });

    // iPXE's script parser: ";", "&&" and "||" end a command, "#" starts a comment; the menu's
    // `set cmdline_client VALUE` line would run or drop the rest of the value.
    // (";", "&" and "|" were refused already, as shell in ltsp.conf; "#" passed.)
    it.each(["quiet # debug", "quiet #debug", "splash#"])("a node's kernelParameters %j are refused, naming the field", (value) => {
        expect(reasons(node({ kernelParameters: value }))).toEqual([expect.stringMatching(/^kernelParameters: .* contains "#": iPXE reads/)]);
    });

    it("the server-wide kernelParameters (ltspConf common/server) are refused the same way", () => {
        expect(reasons(validateLtspServer(validServerInputs({ ltspConf: { common: { kernelParameters: "quiet # splash" } } })))).toEqual([
            'ltspConf.common.kernelParameters: "quiet # splash" contains "#": iPXE reads ; && || as the end of a command and # as a comment, so the boot menu would run or drop the rest',
        ]);
        expect(
            reasons(validateLtspServer(validServerInputs({ ltspConf: { common: { kernelParameters: "quiet console=ttyS0,115200n8" } } }))),
        ).toEqual([]);
    });

    it("a menu entry's title (an `item` line) may not contain them either", () => {
        const entry = { id: "restore", script: ["boot"] };
        for (const title of ["Restore && reboot", "Restore || reboot", "Restore; reboot", "Room #3"]) {
            const r = menuEntrySchema.safeParse({ ...entry, title });
            expect(r.success, title).toBe(false);
            expect(r.error?.issues[0].message).toMatch(/iPXE reads ; && \|\| as the end of a command/);
        }
        expect(menuEntrySchema.safeParse({ ...entry, title: "Clonezilla: restore win11 to disk sda" }).success).toBe(true);
    });

    // dnsmasq(8) --dhcp-host: a field "ignore" means never answer; "infinite" and a lease time
    // (seconds, or 45m, 1h, 2d, 1w) set the lease. As a host name they are not names.
    it.each(["ignore", "infinite", "IGNORE", "12h", "45m", "2d", "1w", "30s", "3600", "007"])(
        "the host name %j is refused: dnsmasq's dhcp-host reads it as a keyword",
        (hostname) => {
            expect(reasons(node({ hostname }))).toEqual([
                expect.stringMatching(new RegExp(`^hostname: "${hostname}" (reads as a lease time|is a dnsmasq dhcp-host keyword)`)),
            ]);
        },
    );

    it.each(["pc-12h", "h12", "12hx", "lab1", "ignored", "pc007"])("the host name %j is a name", (hostname) => {
        expect(reasons(node({ hostname }))).toEqual([]);
    });

    it("a DHCP scope's reservation names are checked as the nodes' are", () => {
        const scope = validateScope(
            validScopeInputs({ nodes: [{ nodeName: "pc1", mac: "52:54:00:00:01:01", hostname: "ignore", image: "thin", ip: "10.213.1.50" }] }),
        );
        expect(reasons(scope)).toEqual([expect.stringMatching(/^nodes\.0\.hostname: "ignore" is a dnsmasq dhcp-host keyword/)]);
    });
});

describe("a site's clients: inline and inventory rows, each named by its place", () => {
    const FIXTURES = join(__dirname, "..", "fixtures", "inventory");

    it("each inventory client keeps the line it starts on (lab.csv: a comment, the header, a blank line)", () => {
        expect(loadPlacedInventory(join(FIXTURES, "lab.csv")).lines).toEqual([3, 4, 5, 7]);
        expect(loadPlacedInventory(join(FIXTURES, "lab.yaml")).lines).toEqual([3, 7, 14, 25]);
    });

    it("an inventory's problems are one line, each naming the file as config gives it, the line and the value", () => {
        const file = join(mkdtempSync(join(tmpdir(), "inventory-")), "bad.csv");
        writeFileSync(
            file,
            "mac,hostname,image\n52:54:00:00:01:01,pc01,thin\n52:54:zz,pc02,thin\n52:54:00:00:01:03,12h,thin\n52:54:00:00:01:05,pc05,fat\n",
        );
        let message = "";
        try {
            readInventoryFile(file, ["thin"]);
        } catch (err) {
            message = (err as Error).message;
        }
        expect(message).not.toContain("\n");
        expect(message).toMatch(new RegExp(`^netboot:inventoryFile: ${file} line 3, column 1 \\(mac\\): "52:54:zz" is not a MAC address`));
        expect(message).toContain(`; ${file} line 4, column 2 (hostname): "12h" reads as a lease time`);
        expect(message).toContain(`; ${file} line 5, column 3 (image): "fat" is not an image of this stack`);
    });

    const inventory = { file: "inventory/lab.csv", nodes: [{ mac: "52:54:00:00:01:01", hostname: "pc01" }], lines: [3] };
    const conflict = (inline: Record<string, unknown>[]) => {
        try {
            siteNodes(inline as { hostname: string; mac: string }[], inventory);
            return "";
        } catch (err) {
            return (err as Error).message;
        }
    };

    it("an inline node with an inventory row's MAC (another notation) is one line naming both, not a stack trace", () => {
        expect(conflict([{ mac: "52-54-00-00-01-01", hostname: "lab-a" }])).toBe(
            'stack config: inventory/lab.csv line 3 (pc01): mac "52:54:00:00:01:01" is also the mac of netboot:nodes[0] (lab-a)',
        );
    });

    it("one host name in two places (in any case: one DNS name, one Pulumi resource name) too", () => {
        expect(conflict([{ mac: "52:54:00:00:02:01", hostname: "PC01" }])).toBe(
            'stack config: inventory/lab.csv line 3 (pc01): hostname "pc01" is also the hostname of netboot:nodes[0] (PC01)',
        );
    });

    it("two inline nodes with one address; distinct clients pass, in order, inline first", () => {
        expect(
            conflict([
                { mac: "52:54:00:00:02:01", hostname: "a", ip: "10.213.1.20" },
                { mac: "52:54:00:00:02:02", hostname: "b", ip: "10.213.1.20" },
            ]),
        ).toBe('stack config: netboot:nodes[1] (b): ip "10.213.1.20" is also the ip of netboot:nodes[0] (a)');
        const placed = siteNodes([{ mac: "52:54:00:00:02:01", hostname: "a" }], inventory);
        expect(placed.map((p) => p.place)).toEqual(["netboot:nodes[0] (a)", "inventory/lab.csv line 3 (pc01)"]);
    });
});

describe("keys the stack sets itself, and a Windows scope with no server, are errors naming the key", () => {
    const MUNGE_KEY = "k".repeat(40);
    beforeAll(() => {
        pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "netboot", "render");
    });
    const readRender = (cluster: Record<string, unknown>) => {
        pulumi.runtime.setAllConfig(
            {
                "netboot:site": "render",
                "netboot:server": JSON.stringify({ host: "10.213.0.2", privateKeyFile: "/k" }),
                "netboot:lan": JSON.stringify({ interface: "eth1", address: "10.213.1.1/24" }),
                "netboot:dhcp": JSON.stringify({ mode: "full" }),
                "netboot:cluster": JSON.stringify(cluster),
                "netboot:mungeKey": MUNGE_KEY,
            },
            ["netboot:mungeKey"],
        );
        try {
            readSiteConfig(slurmSiteSchema("render"), ["privateKey", "mungeKey"]);
            return "";
        } catch (err) {
            return (err as Error).message;
        }
    };

    it("cluster.controllerAddress (the stack takes lan.address) is refused, not silently replaced", () => {
        expect(readRender({ controllerAddress: "10.213.1.9", partition: "frames" })).toBe(
            'stack config: netboot:cluster.controllerAddress: "10.213.1.9" is set by the stack from netboot:lan.address (the server\'s address); remove it here',
        );
        expect(readRender({ clientNetwork: "10.9.0.0/16" })).toMatch(
            /^stack config: netboot:cluster\.clientNetwork: "10\.9\.0\.0\/16" is set by the stack/,
        );
        expect(readRender({ partition: "frames", outputDir: "/srv/frames" })).toBe("");
    });

    it("the render and compute images' packages are checked when config is read (their source is unknown at preview)", () => {
        for (const site of ["render", "compute"] as const) {
            const result = slurmSiteSchema(site).shape.image.safeParse({ packages: ["povray", "blender; reboot"] }, { reportInput: true });
            expect(result.success, site).toBe(false);
            expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["packages.1", "is not a Debian package name"]]);
        }
        expect(slurmSiteSchema("render").shape.image.safeParse({ packages: ["povray", "libc6-dev", "g++"] }).success).toBe(true);
    });

    it("cluster.mungeKey is refused as [secret], pointing to netboot:mungeKey", () => {
        const message = readRender({ mungeKey: "plain-key-in-cluster-0123456789abcdef" });
        expect(message).toBe(
            "stack config: netboot:cluster.mungeKey: [secret] is set by the stack from netboot:mungeKey (a secret: pulumi config set --secret netboot:mungeKey <value>); remove it here",
        );
    });

    it("school balance.servers (the stack takes netboot:appServers) is refused", () => {
        const result = schoolConfig.shape.balance.safeParse({ policy: "weighted", servers: [{ name: "a" }] }, { reportInput: true });
        expect(result.success).toBe(false);
        expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
            ["servers", "is set by the stack from netboot:appServers; remove it here"],
        ]);
        expect(schoolConfig.shape.balance.safeParse({ policy: "weighted" }).success).toBe(true);
    });

    it("lab clonezilla.connection and clonezilla.aptProxy (the stack takes netboot:server and netboot:aptProxy) are refused", () => {
        const result = labConfig.shape.clonezilla.safeParse(
            { connection: { host: "10.0.0.9" }, aptProxy: "http://10.0.0.9:3142", account: "imaging" },
            { reportInput: true },
        );
        expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
            ["connection", "is set by the stack from netboot:server; remove it here"],
            ["aptProxy", "is set by the stack from netboot:aptProxy; remove it here"],
        ]);
    });

    it("school: BALANCE_* parameters in ltspConf or a client's section (the balancing writes them over config) are refused", () => {
        expect(
            balanceParameterFailures(
                { clients: { extra: { BALANCE_POLICY: "random", X_MODES: "1024x768" }, commands: { POST_INIT_BALANCE: "true" } } },
                [
                    { place: "inventory/school.csv line 4 (tc01)", node: { ltspConf: { BALANCE_PREFER: "10.213.1.5", MOSIX: "N" } } },
                    { place: "netboot:nodes[0] (tc02)", node: {} },
                ],
            ),
        ).toEqual([
            "netboot:ltspConf.clients.extra.BALANCE_POLICY: is set by the session balancing (netboot:balance); remove it here",
            "netboot:ltspConf.clients.commands.POST_INIT_BALANCE: is set by the session balancing (netboot:balance); remove it here",
            "inventory/school.csv line 4 (tc01): ltspConf.BALANCE_PREFER is set by the session balancing (netboot:balance); remove it here",
        ]);
        expect(balanceParameterFailures({ common: { extra: { X_MODES: "1024x768" } } }, [])).toEqual([]);
    });

    it("a Windows scope with no server is an error, not a script sent to the LTSP server; other kinds use the site's server", () => {
        const site = { host: "10.213.0.2" } as never;
        const config = new pulumi.Config("netboot");
        expect(() => scopeConnection({ kind: "windows", name: "school" }, 1, site, config)).toThrow(
            'netboot:dhcpScopes[1].server: is required for scope "school" of kind "windows": it names the Windows DHCP server (without it the scope\'s PowerShell would go to the LTSP server)',
        );
        expect(scopeConnection({ kind: "dnsmasq", name: "lab" }, 0, site, config)).toBe(site);
    });
});

describe("every address is checked against its network and what it must not be", () => {
    // 10.213.1.0/24: network 10.213.1.0, broadcast 10.213.1.255, server 10.213.1.1, range .100-.199.
    const server = (extra: Record<string, unknown>) => reasons(validateLtspServer(validServerInputs(extra)));

    it("the server's lan.address may not be the network or broadcast address", () => {
        expect(server({ lan: { interface: "pxebr0", address: "10.213.1.0/24" } })).toContain(
            'lan.address: "10.213.1.0/24" is the network address of 10.213.1.0/24, not a host\'s: the server needs a host address of its own, with the prefix',
        );
        expect(server({ lan: { interface: "pxebr0", address: "10.213.1.255/24" } })[0]).toMatch(
            /^lan\.address: .* is the broadcast address of 10\.213\.1\.0\/24/,
        );
    });

    it("dhcp.router: not the network or broadcast address, not inside the dynamic range", () => {
        const dhcp = { mode: "full", rangeStart: "10.213.1.100", rangeEnd: "10.213.1.199" };
        expect(server({ dhcp: { ...dhcp, router: "10.213.1.255" } })).toEqual([
            'dhcp.router: "10.213.1.255" is the broadcast address of 10.213.1.0/24, not a host\'s',
        ]);
        expect(server({ dhcp: { ...dhcp, router: "10.213.1.150" } })).toEqual([
            'dhcp.router: "10.213.1.150" is inside the dynamic range 10.213.1.100-10.213.1.199: the server would lease the router\'s address to a client',
        ]);
        expect(server({ dhcp: { ...dhcp, router: "10.213.1.254" } })).toEqual([]);
        expect(server({ dhcp: { ...dhcp, router: "10.213.1.1" } })).toEqual([]); // the server itself routes (NAT)
    });

    it("a DHCP scope: range ends and router as host addresses, the router outside the range", () => {
        expect(reasons(validateScope(validScopeInputs({ rangeStart: "10.213.1.0" })))).toEqual([
            'rangeStart: "10.213.1.0" is the network address of 10.213.1.0/24, not a host\'s',
        ]);
        expect(reasons(validateScope(validScopeInputs({ router: "10.213.1.120" })))[0]).toMatch(
            /^router: "10\.213\.1\.120" is inside the dynamic range/,
        );
        expect(reasons(validateScope(validScopeInputs({ router: "10.213.1.254" })))).toEqual([]);
    });

    it("the Clonezilla server address is a host on a client network", () => {
        expect(reasons(repository({ server: "10.213.2.1" }))).toEqual([
            'server: "10.213.2.1" is not a host address on the client networks (10.213.1.0/24): is outside the subnet 10.213.1.0/24',
        ]);
        expect(reasons(repository({ server: "10.213.1.255" }))[0]).toMatch(/^server: .* is the broadcast address of 10\.213\.1\.0\/24/);
        expect(reasons(repository({ server: "10.213.2.1", clientNetworks: ["10.213.1.0/24", "10.213.2.0/24"] }))).toEqual([]);
    });

    it("a cluster's controllerAddress is not the node LAN's broadcast address", () => {
        expect(reasons(cluster({ controllerAddress: "10.213.1.255" }))).toEqual([
            'controllerAddress: "10.213.1.255" is the broadcast address of 10.213.1.0/24, not a host\'s',
        ]);
    });
});
