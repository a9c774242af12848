import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../lib/core/sha256";
import { useHostsForTests } from "../../lib/ssh/pool";
import { dhcpScopeProvider } from "../../resources/dhcpScope";
import { ltspServerProvider } from "../../resources/ltspServer";
import { nodeAssignmentProvider } from "../../resources/nodeAssignment";
import { validScopeInputs, validServerInputs } from "./helpers";
import { ChrootHost } from "./support/chrootHost";
import { FakeWindowsDhcp } from "./support/fakeWindowsDhcp";

type Provider = typeof ltspServerProvider;
type Props = Record<string, any>;

let host: ChrootHost;
beforeEach(() => {
    host = ChrootHost.create();
    useHostsForTests(async () => host);
});
afterEach(() => {
    useHostsForTests(undefined);
    host.remove();
});

async function checked(provider: Provider, inputs: Props): Promise<Props> {
    const result = await provider.check!({}, inputs);
    if (result.failures?.length) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.inputs!;
}

/** One `pulumi up` after `olds`: diff, then update when it says so. */
async function up(provider: Provider, olds: Props, inputs: Props): Promise<{ outs: Props; changed: boolean }> {
    const news = await checked(provider, inputs);
    const diff = await provider.diff!("id", olds, news);
    if (!diff.changes) return { outs: olds, changed: false };
    return { outs: (await provider.update!("id", olds, news)).outs!, changed: true };
}

const DNSMASQ_CONF = "/etc/dnsmasq.d/ltsp-dnsmasq.conf";
const LTSP_CONF = "/etc/ltsp/ltsp.conf";
const IPXE = "/srv/tftp/ltsp/ltsp.ipxe";

describe("LtspServer provider (fake host running the real scripts)", () => {
    const inputs = (overrides: Props = {}) => ({ ...validServerInputs(overrides), managedBy: "test: LtspServer s" });

    it("create, an unchanged up that sends nothing, a failed applet that restores, refresh drift, delete that restores the admin's file", async () => {
        // The administrator's own dnsmasq config for LTSP, with its own mode and group.
        host.put(DNSMASQ_CONF, "admin's dnsmasq\n", 0o640, 0, 117);
        const created = (await ltspServerProvider.create(await checked(ltspServerProvider, inputs()))).outs as Props;
        expect(host.text(LTSP_CONF)).toBe((await checked(ltspServerProvider, inputs())).rendered[LTSP_CONF]);
        expect(host.calls()).toEqual(expect.arrayContaining(["ltsp ipxe", "ltsp initrd", "systemctl restart dnsmasq"]));
        expect(created.installedPackages).toEqual(["ltsp", "ipxe", "dnsmasq", "squashfs-tools", "openssh-server"]);
        // The administrator's original is kept beside the owner record of the file (ownership.ts).
        expect(created.managedFiles[DNSMASQ_CONF].backup).toBe(`/var/lib/netboot/owned/file${DNSMASQ_CONF}/.original`);
        expect(created.generatedFiles).toEqual(expect.arrayContaining([IPXE, "/srv/tftp/ltsp/ltsp.img"]));

        const mutations = host.mutations.length;
        const unchanged = await up(ltspServerProvider, created, inputs());
        expect(unchanged.changed).toBe(false);
        // Even an update with nothing to do sends nothing that changes the host.
        await ltspServerProvider.update!("id", created, await checked(ltspServerProvider, inputs()));
        expect(host.mutations.length).toBe(mutations);

        const menuBefore = host.text(IPXE);
        host.failing("ltsp-initrd");
        const failed = await up(ltspServerProvider, created, inputs({ ltspConf: { server: { menuTimeout: 0 } } })).catch((e: Error) => e);
        expect((failed as Error).message).toMatch(/ltsp initrd failed[\s\S]*Restored the previous/);
        expect(host.text(LTSP_CONF)).toBe(created.rendered[LTSP_CONF]);
        expect(host.text(IPXE)).toBe(menuBefore);
        host.failing("ltsp-initrd", false);

        host.put(LTSP_CONF, "hand edit\n");
        const refreshed = (await ltspServerProvider.read!("id", created)).props as Props;
        expect(refreshed.managedFiles[LTSP_CONF].sha256).toBe(sha256Hex("hand edit\n"));
        const repaired = await up(ltspServerProvider, refreshed, inputs());
        expect(repaired.changed).toBe(true);
        expect(host.text(LTSP_CONF)).toBe(created.rendered[LTSP_CONF]);

        await ltspServerProvider.delete!("id", repaired.outs);
        expect(host.text(DNSMASQ_CONF)).toBe("admin's dnsmasq\n");
        expect(host.modeOwner(DNSMASQ_CONF)).toBe("0640 0:117");
        expect(host.exists(LTSP_CONF)).toBe(false);
        expect(host.exists(IPXE)).toBe(false);
        // Packages stay unless removePackagesOnDelete.
        expect(host.exists("/run/fake/dpkg/ltsp")).toBe(true);
    });

    // Issue 17, 2: another stack's claim is refused at `up` (the engine), and at preview where a refresh has seen it.
    it("a file another stack took over since: refresh records it, and the next preview's diff fails naming that stack", async () => {
        const created = (await ltspServerProvider.create(await checked(ltspServerProvider, inputs()))).outs as Props;
        host.put(`/var/lib/netboot/owned/file${LTSP_CONF}/.owner`, "netboot/other: LtspServer boot\n");
        const refreshed = (await ltspServerProvider.read!("id", created)).props as Props;
        expect(refreshed.takenBy).toEqual({ [`file${LTSP_CONF}`]: "netboot/other: LtspServer boot" });
        // Unchanged: nothing to write, nothing refused.
        expect((await ltspServerProvider.diff!("id", refreshed, await checked(ltspServerProvider, inputs()))).changes).toBe(false);
        const changed = await checked(ltspServerProvider, inputs({ ltspConf: { server: { menuTimeout: 7000 } } }));
        await expect(ltspServerProvider.diff!("id", refreshed, changed)).rejects.toThrow(
            `test: LtspServer s: refresh found that ${LTSP_CONF} belongs to netboot/other: LtspServer boot on 10.213.0.2; ` +
                "this stack may not change what another stack manages",
        );
    });

    it("a dnsmasq config dnsmasq itself refuses is never written; the running one stays", async () => {
        const created = (await ltspServerProvider.create(await checked(ltspServerProvider, inputs()))).outs as Props;
        const before = host.text(DNSMASQ_CONF);
        host.failing("dnsmasq-test");
        const err = await up(ltspServerProvider, created, inputs({ dhcp: { mode: "proxy" } })).catch((e: Error) => e);
        expect((err as Error).message).toContain("dnsmasq rejects the rendered /etc/dnsmasq.d/ltsp-dnsmasq.conf");
        expect(host.text(DNSMASQ_CONF)).toBe(before);
    });
});

describe("DhcpScope provider", () => {
    const node = { nodeName: "pc01", mac: "52:54:00:00:01:01", hostname: "pc01", image: "thin", ip: "10.213.1.20" };
    const linux = (overrides: Props = {}) => ({
        ...validScopeInputs(),
        nodes: [node],
        managedBy: "test: DhcpScope lab",
        ...overrides,
    });
    const CONF = "/etc/dnsmasq.d/netboot-scope-lab.conf";

    it("dnsmasq: create, unchanged, update with a failing restart restores, refresh drift, delete", async () => {
        const created = (await dhcpScopeProvider.create(await checked(dhcpScopeProvider, linux()))).outs as Props;
        expect(host.text(CONF)).toContain("dhcp-host=52:54:00:00:01:01,10.213.1.20,pc01");
        expect(created.service).toEqual({ active: "active", enabled: "enabled" });
        expect((await up(dhcpScopeProvider, created, linux())).changed).toBe(false);

        host.failing("restart-dnsmasq");
        const err = await up(dhcpScopeProvider, created, linux({ router: "10.213.1.254" })).catch((e: Error) => e);
        expect((err as Error).message).toMatch(/restart dnsmasq failed[\s\S]*Restored the previous \/etc\/dnsmasq.d\/netboot-scope-lab.conf/);
        expect(host.text(CONF)).not.toContain("option:router");
        host.failing("restart-dnsmasq", false);

        host.service("dnsmasq", "failed", "enabled");
        const refreshed = (await dhcpScopeProvider.read!("id", created)).props as Props;
        expect(refreshed.service.active).toBe("failed");
        const repaired = await up(dhcpScopeProvider, refreshed, linux());
        expect(repaired.changed).toBe(true);
        expect(repaired.outs.service.active).toBe("active");

        await dhcpScopeProvider.delete!("id", repaired.outs);
        expect(host.exists(CONF)).toBe(false);
    });

    it("windows: the cmdlet plan goes through the engine as one script; a second up sends nothing; delete removes the scope", async () => {
        const windows = new FakeWindowsDhcp();
        host.answerCommandLine = (line) => windows.answer(line);
        const inputs = linux({ kind: "windows", interface: undefined, windows: { scopeId: "10.213.1.0" } });
        const created = (await dhcpScopeProvider.create(await checked(dhcpScopeProvider, inputs))).outs as Props;
        expect(host.mutations).toHaveLength(1);
        expect(host.mutations[0]).toMatch(/^configure DHCP scope 10\.213\.1\.0: \d+ DhcpServer cmdlets$/);
        expect(windows.state.reservations).toEqual([{ IPAddress: "10.213.1.20", ClientId: "52-54-00-00-01-01", Name: "pc01" }]);
        expect(windows.state.policies.map((p) => p.Name)).toEqual(["netboot-ipxe", "netboot-uefi", "netboot-bios"]);
        expect(created.pendingCommands).toEqual([]);

        const refreshed = (await dhcpScopeProvider.read!("id", created)).props as Props;
        expect(refreshed.pendingCommands).toEqual([]);
        expect((await up(dhcpScopeProvider, refreshed, inputs)).changed).toBe(false);

        // Drift on the server (a reservation removed by hand) shows in refresh and is repaired.
        windows.state.reservations = [];
        const drifted = (await dhcpScopeProvider.read!("id", created)).props as Props;
        expect(drifted.pendingCommands).toEqual([
            "Add-DhcpServerv4Reservation -ScopeId '10.213.1.0' -IPAddress '10.213.1.20' -ClientId '52-54-00-00-01-01' -Name 'pc01'",
        ]);
        const repaired = await up(dhcpScopeProvider, drifted, inputs);
        expect(repaired.changed).toBe(true);
        expect(windows.state.reservations).toHaveLength(1);

        await dhcpScopeProvider.delete!("id", repaired.outs);
        expect(windows.state.scope).toBeNull();
        expect(windows.state.classes).toEqual([]);
    });
});

describe("resources on one host", () => {
    it("an LtspServer and a dnsmasq DhcpScope applied side by side take turns: nothing of one runs while the other applies", async () => {
        const server = await checked(ltspServerProvider, { ...validServerInputs({ dhcp: { mode: "none" } }), managedBy: "test: LtspServer s" });
        const scope = await checked(dhcpScopeProvider, { ...validScopeInputs(), managedBy: "test: DhcpScope lab" });
        // The first change either apply makes is held for half a second; whatever the host is sent
        // meanwhile (a read or a change) could only come from the other apply.
        const exec = host.exec.bind(host);
        const mutate = host.mutate.bind(host);
        let holding = false;
        let held = "";
        const sentMeanwhile: string[] = [];
        host.exec = (script, args, opts) => {
            if (holding) sentMeanwhile.push(script.split("\n")[1] ?? script);
            return exec(script, args, opts);
        };
        host.mutate = async (what, script, args, opts) => {
            if (!held) {
                held = what;
                holding = true;
                await new Promise((resolve) => setTimeout(resolve, 500));
                holding = false;
            }
            return mutate(what, script, args, opts);
        };
        await Promise.all([ltspServerProvider.create(server), dhcpScopeProvider.create(scope)]);
        expect(held).not.toBe("");
        expect(sentMeanwhile, `sent while "${held}" was held`).toEqual([]);
        expect(host.text("/etc/dnsmasq.d/netboot-scope-lab.conf")).toContain("dhcp-range=");
        expect(host.exists(LTSP_CONF)).toBe(true);
    });
});

describe("NodeAssignment provider", () => {
    const node = { mac: "52-54-00-AB-CD-EF", hostname: "pc01", image: "thin", nodeName: "pc01" };

    it("check normalizes, diff sees changes, update returns the new inputs, read and delete touch no host", async () => {
        const checkedNode = (await nodeAssignmentProvider.check!({}, node)).inputs as Props;
        expect(checkedNode.mac).toBe("52:54:00:ab:cd:ef");
        expect((await nodeAssignmentProvider.check!({}, { ...node, mac: "nope" })).failures?.[0].reason).toMatch(/^mac: "nope" is not a MAC address/);
        expect((await nodeAssignmentProvider.diff!("id", checkedNode, checkedNode)).changes).toBe(false);
        const moved = { ...checkedNode, image: "fat" };
        expect((await nodeAssignmentProvider.diff!("id", checkedNode, moved)).changes).toBe(true);
        expect((await nodeAssignmentProvider.update!("id", checkedNode, moved)).outs).toEqual(moved);
        expect((await nodeAssignmentProvider.read!("id", moved)).props).toEqual(moved);
        await nodeAssignmentProvider.delete!("id", moved);
        expect(host.mutations).toEqual([]);
        expect(host.calls()).toEqual([]);
    });
});
