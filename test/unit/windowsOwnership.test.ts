import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WindowsState } from "../../lib/dhcp/windows/state";
import { useHostsForTests } from "../../lib/ssh/pool";
import { dhcpScopeProvider } from "../../resources/dhcpScope";
import { validScopeInputs } from "./helpers";
import { ChrootHost } from "./support/chrootHost";
import { FakeWindowsDhcp } from "./support/fakeWindowsDhcp";

/*
 * DhcpScope (kind "windows") against the fake DhcpServer module holding what someone else made: a
 * compute site's scope with its own DNS servers, domain, WDS boot options, a printer reservation,
 * a policy and a vendor class. Expected cmdlets follow the DhcpServer module's documentation
 * (learn.microsoft.com, powershell/module/dhcpserver):
 *   Remove-DhcpServerv4Reservation [-ScopeId] <IPAddress> [-ClientId] <String[]>
 *   Remove-DhcpServerv4OptionValue [-OptionId] <UInt32[]> [[-ScopeId] <IPAddress>] [-PolicyName <String>]
 *       ("If you specify only the ScopeId parameter, the option values set at the scope level are deleted")
 *   Remove-DhcpServerv4Policy [-Name] <String[]> [[-ScopeId] <IPAddress>]   (example 2: a policy in a scope)
 *   Remove-DhcpServerv4Class [-Name] <String[]> [-Type] <String>            (class: server-wide, Vendor or User)
 *   Remove-DhcpServerv4Scope [-ScopeId] <IPAddress[]> [-Force]   (-Force: "deletes the scope even if active leases exist")
 *   Set-DhcpServerv4Scope [-ScopeId] <IPAddress> [-Name <String>] [-LeaseDuration <TimeSpan>]
 *   Set-DhcpServerv4OptionValue [-PolicyName <String>] [[-ScopeId] <IPAddress>] [-Value] <String[]> [-OptionId] <UInt32>
 *   Add-DhcpServerv4Class [-Name] <String> [-Type] <String> [-Data] <String>
 *   Add-DhcpServerv4Policy [-Name] <String> [-Condition] <String> [-ScopeId <IPAddress>] [-ProcessingOrder <UInt16>] [-UserClass|-VendorClass <String[]>]
 *   Add-DhcpServerv4Reservation [-ScopeId] <IPAddress> [-IPAddress] <IPAddress> [-ClientId] <String> [-Name <String>]
 *   Add-DhcpServerv4Scope [-StartRange] <IPAddress> [-EndRange] <IPAddress> [-Name] <String> [-SubnetMask] <IPAddress> ...
 *   Get-DhcpServerv4Lease [-ScopeId] <IPAddress>   ("the active leases from the specified scope are returned")
 */

type Props = Record<string, any>;

let host: ChrootHost;
let server: FakeWindowsDhcp;
beforeEach(() => {
    host = ChrootHost.create();
    useHostsForTests(async () => host);
    server = new FakeWindowsDhcp();
    host.answerCommandLine = (line) => server.answer(line);
});
afterEach(() => {
    useHostsForTests(undefined);
    host.remove();
});

const none = { VendorClass: [], UserClass: [], ClientId: [], RelayAgent: [], CircuitId: [], RemoteId: [], SubscriberId: [], Fqdn: [] };

/** The compute site's scope as its administrators made it (nothing of it from this resource). */
function computeSite(): WindowsState {
    return {
        scope: {
            ScopeId: "10.213.1.0",
            Name: "compute-site",
            StartRange: "10.213.1.100",
            EndRange: "10.213.1.199",
            SubnetMask: "255.255.255.0",
            LeaseSeconds: 691200,
            State: "Active",
            ActivatePolicies: true,
        },
        options: [
            { OptionId: 3, Value: ["10.213.1.254"], PolicyName: null },
            { OptionId: 6, Value: ["10.213.1.53", "10.213.1.54"], PolicyName: null },
            { OptionId: 15, Value: ["compute.example"], PolicyName: null },
            { OptionId: 66, Value: ["wds01"], PolicyName: null },
            { OptionId: 67, Value: ["boot\\x64\\wdsnbp.com"], PolicyName: null },
            { OptionId: 6, Value: ["10.213.1.53"], PolicyName: "printers" },
        ],
        reservations: [{ IPAddress: "10.213.1.77", ClientId: "00-11-22-33-44-55", Name: "printer-2f" }],
        classes: [
            { Name: "Default BOOTP Class", Type: "Vendor", Data: "BOOTP.Microsoft" },
            { Name: "Acme phones", Type: "Vendor", Data: "AcmePhone" },
        ],
        policies: [{ Name: "printers", ProcessingOrder: 1, Enabled: true, Condition: "Or", MacAddress: ["EQ", "00-11-22*"], ...none }],
        optionDefinitions: [3, 6, 15, 17, 66, 67],
        leaseCount: 37,
        classUsers: [],
    };
}

const node = { nodeName: "pc01", mac: "52:54:00:00:01:01", hostname: "pc01", image: "thin", ip: "10.213.1.20" };
function inputs(windows: Props = {}, overrides: Props = {}): Props {
    return {
        ...validScopeInputs(),
        kind: "windows",
        interface: undefined,
        domain: "lab.example",
        boot: { nextServer: "10.213.1.1", rootPath: "10.213.1.1:/ltsp/amd64" },
        nodes: [node],
        windows: { scopeId: "10.213.1.0", ...windows },
        managedBy: "test: DhcpScope lab",
        ...overrides,
    };
}

async function checked(raw: Props): Promise<Props> {
    const result = await dhcpScopeProvider.check!({}, raw);
    if (result.failures?.length) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.inputs!;
}

async function create(raw: Props): Promise<Props> {
    return (await dhcpScopeProvider.create(await checked(raw))).outs as Props;
}

/** One `pulumi up` after `olds`: diff (no replacement expected), then update when it says so. */
async function up(olds: Props, raw: Props): Promise<Props> {
    const news = await checked(raw);
    const diff = await dhcpScopeProvider.diff!("id", olds, news);
    expect(diff.replaces ?? []).toEqual([]);
    if (!diff.changes) return olds;
    return (await dhcpScopeProvider.update!("id", olds, news)).outs as Props;
}

const errorOf = (promise: Promise<unknown>) => promise.then(() => new Error("no error")).catch((e: Error) => e.message);

/** Cmdlets the fake carried out from `from` on. */
const sentSince = (from: number) => server.cmdlets.slice(from);

describe("Windows DHCP: never take over a scope it did not create", () => {
    it("create refuses an existing scope without windows.adopt, in one line naming scope and server, before any change", async () => {
        server.state = computeSite();
        const message = await errorOf(create(inputs()));
        expect(message).toBe(
            "windows.adopt: false: DHCP scope 10.213.1.0 on 10.213.0.2 ('compute-site') exists and this resource did not create it; " +
                "nothing was changed. Set windows.adopt: true to manage it (what it did not create is kept)",
        );
        expect(server.cmdlets).toEqual([]);
        expect(host.mutations).toEqual([]);
        expect(server.state).toEqual(computeSite());
    });

    it("adopt: true keeps what it did not create (reservation, options 3/6/66/67, policy, class) and records what it made", async () => {
        server.state = computeSite();
        const outs = await create(inputs({ adopt: true }));
        const id = "-ScopeId '10.213.1.0'";
        expect(server.cmdlets).toEqual([
            `Set-DhcpServerv4Scope ${id} -Name 'lab' -LeaseDuration '0.12:00:00'`,
            // 15 is named by the config (domain): set, not removed; 17 (rootPath) is new.
            `Set-DhcpServerv4OptionValue ${id} -OptionId 15 -Value 'lab.example'`,
            `Set-DhcpServerv4OptionValue ${id} -OptionId 17 -Value '10.213.1.1:/ltsp/amd64/'`,
            "Add-DhcpServerv4Class -Name 'netboot PXE BIOS' -Type Vendor -Data 'PXEClient:Arch:00000'",
            "Add-DhcpServerv4Class -Name 'netboot PXE UEFI x64' -Type Vendor -Data 'PXEClient:Arch:00007'",
            "Add-DhcpServerv4Class -Name 'netboot iPXE' -Type User -Data 'iPXE'",
            `Add-DhcpServerv4Policy -Name 'netboot-ipxe' ${id} -ProcessingOrder 1 -Condition OR -UserClass 'EQ','netboot iPXE'`,
            `Set-DhcpServerv4OptionValue ${id} -PolicyName 'netboot-ipxe' -OptionId 66 -Value '10.213.1.1'`,
            `Set-DhcpServerv4OptionValue ${id} -PolicyName 'netboot-ipxe' -OptionId 67 -Value 'ltsp/ltsp.ipxe'`,
            `Add-DhcpServerv4Policy -Name 'netboot-uefi' ${id} -ProcessingOrder 2 -Condition OR -VendorClass 'EQ','netboot PXE UEFI x64*'`,
            `Set-DhcpServerv4OptionValue ${id} -PolicyName 'netboot-uefi' -OptionId 66 -Value '10.213.1.1'`,
            `Set-DhcpServerv4OptionValue ${id} -PolicyName 'netboot-uefi' -OptionId 67 -Value 'ltsp/snponly.efi'`,
            `Add-DhcpServerv4Policy -Name 'netboot-bios' ${id} -ProcessingOrder 3 -Condition OR -VendorClass 'EQ','netboot PXE BIOS*'`,
            `Set-DhcpServerv4OptionValue ${id} -PolicyName 'netboot-bios' -OptionId 66 -Value '10.213.1.1'`,
            `Set-DhcpServerv4OptionValue ${id} -PolicyName 'netboot-bios' -OptionId 67 -Value 'ltsp/undionly.kpxe'`,
            `Add-DhcpServerv4Reservation ${id} -IPAddress '10.213.1.20' -ClientId '52-54-00-00-01-01' -Name 'pc01'`,
        ]);
        expect(server.cmdlets.filter((c) => c.startsWith("Remove-"))).toEqual([]);
        const site = computeSite();
        expect(server.state.reservations).toContainEqual(site.reservations[0]);
        for (const option of site.options.filter((o) => o.OptionId !== 15)) expect(server.state.options).toContainEqual(option);
        expect(server.state.policies).toContainEqual(site.policies[0]);
        expect(server.state.classes).toEqual(expect.arrayContaining(site.classes));
        expect(outs.windowsOwned).toEqual({
            scope: "adopted",
            scopeOptions: [17],
            policies: ["netboot-bios", "netboot-ipxe", "netboot-uefi"],
            reservations: ["52-54-00-00-01-01"],
            classes: ["netboot iPXE", "netboot PXE BIOS", "netboot PXE UEFI x64"],
            optionDefinitions: [],
            // What the config overwrote, as it was: put back on delete.
            originals: { scope: { Name: "compute-site", LeaseSeconds: 691200 }, options: { 15: ["compute.example"] } },
        });
        expect(outs.pendingRemovals).toEqual([]);
    });

    it("refresh lists the cmdlets that would remove something (pendingRemovals); an up removes only what it created", async () => {
        server.state = computeSite();
        const created = await create(inputs({ adopt: true }));
        // On the server meanwhile: our pc01 moved by hand, an option added to our policy, and the site's own new reservation.
        server.state.reservations = server.state.reservations.map((r) => (r.Name === "pc01" ? { ...r, IPAddress: "10.213.1.21" } : r));
        server.state.options.push({ OptionId: 3, Value: ["10.213.1.254"], PolicyName: "netboot-bios" });
        server.state.reservations.push({ IPAddress: "10.213.1.78", ClientId: "00-11-22-33-44-66", Name: "printer-3f" });

        const refreshed = (await dhcpScopeProvider.read!("id", created)).props as Props;
        expect(refreshed.pendingRemovals).toEqual([
            "Remove-DhcpServerv4OptionValue -ScopeId '10.213.1.0' -PolicyName 'netboot-bios' -OptionId 3",
            "Remove-DhcpServerv4Reservation -ScopeId '10.213.1.0' -ClientId '52-54-00-00-01-01'",
        ]);
        expect(refreshed.pendingCommands).toEqual(expect.arrayContaining(refreshed.pendingRemovals));

        // The next up also drops the root path (option 17, set by this resource), the domain (15, the
        // site's: its value goes back) and pc01 from the config.
        const from = server.cmdlets.length;
        const updated = await up(refreshed, inputs({ adopt: true }, { boot: { nextServer: "10.213.1.1" }, nodes: [], domain: undefined }));
        expect(sentSince(from)).toEqual([
            "Remove-DhcpServerv4OptionValue -ScopeId '10.213.1.0' -OptionId 17",
            "Set-DhcpServerv4OptionValue -ScopeId '10.213.1.0' -OptionId 15 -Value 'compute.example'",
            "Remove-DhcpServerv4OptionValue -ScopeId '10.213.1.0' -PolicyName 'netboot-bios' -OptionId 3",
            "Remove-DhcpServerv4Reservation -ScopeId '10.213.1.0' -ClientId '52-54-00-00-01-01'",
        ]);
        expect(server.state.reservations.map((r) => r.Name).sort()).toEqual(["printer-2f", "printer-3f"]);
        expect(server.state.options.filter((o) => o.PolicyName === null).map((o) => o.OptionId)).toEqual([3, 6, 66, 67, 15]);
        expect(updated.windowsOwned.reservations).toEqual([]);
        expect(updated.windowsOwned.scopeOptions).toEqual([]);
        expect(server.state.options).toContainEqual({ OptionId: 15, Value: ["compute.example"], PolicyName: null });
        expect(updated.windowsOwned.originals).toEqual({ scope: { Name: "compute-site", LeaseSeconds: 691200 } });
    });

    it("after a refresh, the preview of a config change names every cmdlet of it that removes something, before the up sends them", async () => {
        server.state = computeSite();
        const created = await create(inputs({ adopt: true }));
        const refreshed = (await dhcpScopeProvider.read!("id", created)).props as Props;
        expect(refreshed.pendingRemovals).toEqual([]);
        // The config drops the root path (17, this resource's) and pc01: the preview must say so.
        const changed = inputs({ adopt: true }, { boot: { nextServer: "10.213.1.1" }, nodes: [] });
        const info = vi.spyOn(pulumi.log, "info").mockResolvedValue(undefined);
        const [mutations, sent] = [host.mutations.length, server.cmdlets.length];
        const diff = await dhcpScopeProvider.diff!("id", refreshed, await checked(changed));
        // The preview talked to nobody.
        expect([host.mutations.length, server.cmdlets.length]).toEqual([mutations, sent]);
        const said = info.mock.calls.map((c) => String(c[0]));
        info.mockRestore();
        expect(diff.changes).toBe(true);
        const from = server.cmdlets.length;
        await up(refreshed, changed);
        const removed = sentSince(from).filter((c) => c.startsWith("Remove-"));
        expect(removed).toEqual([
            "Remove-DhcpServerv4OptionValue -ScopeId '10.213.1.0' -OptionId 17",
            "Remove-DhcpServerv4Reservation -ScopeId '10.213.1.0' -ClientId '52-54-00-00-01-01'",
        ]);
        expect(said).toEqual([
            expect.stringMatching(new RegExp(`: the apply would send ${removed.map((r) => r.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("; ")}$`)),
        ]);
    });

    it("refresh shows a plan that would be refused as one comment line, and the up refuses it before any change", async () => {
        const created = await create(inputs());
        // By hand: pc01's reservation gone, its address reserved for the site's printer.
        server.state.reservations = [{ IPAddress: "10.213.1.20", ClientId: "00-11-22-33-44-55", Name: "printer-2f" }];
        const message =
            "nodes: pc01 10.213.1.20 is reserved in DHCP scope 10.213.1.0 on 10.213.0.2 for client 00-11-22-33-44-55 'printer-2f', " +
            "which this resource did not create; nothing was changed";
        const refreshed = (await dhcpScopeProvider.read!("id", created)).props as Props;
        expect(refreshed.pendingCommands).toEqual([`# refused: ${message}`]);
        expect(refreshed.pendingRemovals).toEqual([]);
        const from = server.cmdlets.length;
        expect(await errorOf(up(refreshed, inputs()))).toBe(message);
        expect(sentSince(from)).toEqual([]);
        expect(server.state.reservations).toEqual([{ IPAddress: "10.213.1.20", ClientId: "00-11-22-33-44-55", Name: "printer-2f" }]);
    });

    it("delete of an adopted scope removes only what it created and puts back what the config overwrote", async () => {
        server.state = computeSite();
        const created = await create(inputs({ adopt: true }));
        const from = server.cmdlets.length;
        await dhcpScopeProvider.delete!("id", created);
        expect(sentSince(from)).toEqual([
            "Remove-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.213.1.0'",
            "Remove-DhcpServerv4Policy -Name 'netboot-uefi' -ScopeId '10.213.1.0'",
            "Remove-DhcpServerv4Policy -Name 'netboot-bios' -ScopeId '10.213.1.0'",
            "Remove-DhcpServerv4Reservation -ScopeId '10.213.1.0' -ClientId '52-54-00-00-01-01'",
            "Remove-DhcpServerv4OptionValue -ScopeId '10.213.1.0' -OptionId 17",
            "Set-DhcpServerv4Scope -ScopeId '10.213.1.0' -Name 'compute-site' -LeaseDuration '8.00:00:00'",
            "Set-DhcpServerv4OptionValue -ScopeId '10.213.1.0' -OptionId 15 -Value 'compute.example'",
            "Remove-DhcpServerv4Class -Name 'netboot PXE BIOS' -Type Vendor",
            "Remove-DhcpServerv4Class -Name 'netboot PXE UEFI x64' -Type Vendor",
            "Remove-DhcpServerv4Class -Name 'netboot iPXE' -Type User",
        ]);
        // The server as the site had it.
        const byId = (options: WindowsState["options"]) =>
            [...options].sort((a, b) => `${a.PolicyName}/${a.OptionId}`.localeCompare(`${b.PolicyName}/${b.OptionId}`));
        const site = computeSite();
        expect(server.state.scope).toEqual(site.scope);
        expect(byId(server.state.options)).toEqual(byId(site.options));
        expect(server.state.reservations).toEqual(site.reservations);
        expect(server.state.policies).toEqual(site.policies);
        expect(server.state.classes).toEqual(site.classes);
    });

    it("delete of a scope it created: refused while it holds a reservation it did not create; then the scope goes, and only the classes it added", async () => {
        // Another DhcpScope on this server made "netboot iPXE"; the site made "Acme phones".
        server.state.classes = [
            { Name: "netboot iPXE", Type: "User", Data: "iPXE" },
            { Name: "Acme phones", Type: "Vendor", Data: "AcmePhone" },
        ];
        const created = await create(inputs());
        expect(created.windowsOwned).toMatchObject({ scope: "created", classes: ["netboot PXE BIOS", "netboot PXE UEFI x64"] });
        server.state.reservations.push({ IPAddress: "10.213.1.77", ClientId: "00-11-22-33-44-55", Name: "printer-2f" });

        const from = server.cmdlets.length;
        expect(await errorOf(dhcpScopeProvider.delete!("id", created))).toBe(
            "DHCP scope 10.213.1.0 on 10.213.0.2 holds what this resource did not create (reservation 10.213.1.77 'printer-2f'); " +
                "nothing was removed: move or remove those, then delete again",
        );
        expect(sentSince(from)).toEqual([]);

        server.state.reservations = server.state.reservations.filter((r) => r.Name !== "printer-2f");
        await dhcpScopeProvider.delete!("id", created);
        expect(sentSince(from)).toEqual([
            "Remove-DhcpServerv4Scope -ScopeId '10.213.1.0' -Force",
            "Remove-DhcpServerv4Class -Name 'netboot PXE BIOS' -Type Vendor",
            "Remove-DhcpServerv4Class -Name 'netboot PXE UEFI x64' -Type Vendor",
        ]);
        expect(server.state.classes.map((c) => c.Name)).toEqual(["netboot iPXE", "Acme phones"]);
    });

    it("delete leaves a class it added while another scope's policy names it", async () => {
        const created = await create(inputs());
        // Another DhcpScope's scope on this server found the classes here and uses the BIOS one.
        server.state.classUsers = [{ ScopeId: "10.213.2.0", Name: "netboot-bios", Classes: ["EQ", "netboot PXE BIOS*"] }];
        const from = server.cmdlets.length;
        await dhcpScopeProvider.delete!("id", created);
        expect(sentSince(from)).toEqual([
            "Remove-DhcpServerv4Scope -ScopeId '10.213.1.0' -Force",
            "Remove-DhcpServerv4Class -Name 'netboot PXE UEFI x64' -Type Vendor",
            "Remove-DhcpServerv4Class -Name 'netboot iPXE' -Type User",
        ]);
        expect(server.state.classes.map((c) => c.Name)).toEqual(["netboot PXE BIOS"]);
    });

    it("a create run again after one whose outputs were lost knows the scope by its -Description mark and goes on", async () => {
        const first = await create(inputs());
        expect(server.state.scope?.Description).toBe("netboot: test: DhcpScope lab");
        // As if that create had failed before its last cmdlet (Pulumi keeps no outputs of a failed create).
        server.state.reservations = [];
        const from = server.cmdlets.length;
        const again = await create(inputs());
        expect(sentSince(from)).toEqual([
            "Add-DhcpServerv4Reservation -ScopeId '10.213.1.0' -IPAddress '10.213.1.20' -ClientId '52-54-00-00-01-01' -Name 'pc01'",
        ]);
        // Classes are server-wide: which of them that create added is not known, so none is the resource's to remove.
        expect(again.windowsOwned).toEqual({ ...first.windowsOwned, classes: [] });
        // Another resource's mark is not this one's.
        server.state.scope!.Description = "netboot: other/stack: DhcpScope lab";
        expect(await errorOf(create(inputs()))).toMatch(/^windows\.adopt: false: DHCP scope 10\.213\.1\.0 on 10\.213\.0\.2 \('lab'\) exists/);
    });

    it("a mask change never removes a scope it did not create, nor one holding foreign reservations or leases unless allowReplace", async () => {
        const narrower = (windows: Props = {}) => inputs(windows, { subnet: "10.213.1.0/25", rangeStart: "10.213.1.100", rangeEnd: "10.213.1.120" });
        const mask = "DHCP scope 10.213.1.0 on 10.213.0.2 has mask 255.255.255.0 (Windows fixes a scope's mask when it is added)";

        // Adopted: never removed.
        server.state = computeSite();
        const adopted = await create(inputs({ adopt: true }));
        let from = server.cmdlets.length;
        expect(await errorOf(up(adopted, narrower({ adopt: true })))).toBe(
            `subnet: 10.213.1.0/25: ${mask} and this resource did not create it, so does not remove it; nothing was changed`,
        );
        expect(sentSince(from)).toEqual([]);

        // Created, with leases: only with windows.allowReplace.
        server.state = new FakeWindowsDhcp().state;
        const created = await create(inputs());
        server.state.leaseCount = 12;
        from = server.cmdlets.length;
        expect(await errorOf(up(created, narrower()))).toBe(
            `subnet: 10.213.1.0/25: ${mask}; removing it drops its 12 active lease(s): set windows.allowReplace: true to allow it; nothing was changed`,
        );
        // Created, holding a reservation someone else added: not even with windows.allowReplace.
        server.state.reservations.push({ IPAddress: "10.213.1.77", ClientId: "00-11-22-33-44-55", Name: "printer-2f" });
        expect(await errorOf(up(created, narrower({ allowReplace: true })))).toBe(
            `subnet: 10.213.1.0/25: ${mask} and holds what this resource did not create (reservation 10.213.1.77 'printer-2f'); nothing was changed`,
        );
        expect(sentSince(from)).toEqual([]);

        server.state.reservations = server.state.reservations.filter((r) => r.Name !== "printer-2f");
        const replaced = await up(created, narrower({ allowReplace: true }));
        expect(sentSince(from).slice(0, 2)).toEqual([
            "Remove-DhcpServerv4Scope -ScopeId '10.213.1.0' -Force",
            "Add-DhcpServerv4Scope -Name 'lab' -StartRange '10.213.1.100' -EndRange '10.213.1.120' -SubnetMask '255.255.255.128' " +
                "-LeaseDuration '0.12:00:00' -State Active -ActivatePolicies $true -Description 'netboot: test: DhcpScope lab'",
        ]);
        expect(server.state.scope?.SubnetMask).toBe("255.255.255.128");
        expect(replaced.windowsOwned.scope).toBe("created");
    });
});
