import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { desiredWindowsScope } from "../../lib/dhcp/windows/desired";
import { planWindowsActions, planWindowsScope } from "../../lib/dhcp/windows/plan";
import { ownsAll, WINDOWS_FIXTURES, windowsScope, windowsState } from "./windowsFixtures";

/*
 * One transcript per kind of drift: test/fixtures/windows/drift-NAME.state.json is in-sync.state.json
 * (the scope of windowsFixtures.windowsScope() as the read script would print it) with one thing changed.
 * Each must produce exactly the cmdlet(s) that undo it, written here from the documented syntax:
 *   Set-DhcpServerv4Scope [-ScopeId] <IPAddress> [-Name <String>] [-LeaseDuration <TimeSpan>] [-State <String>]
 *       [-ActivatePolicies <Boolean>] -StartRange <IPAddress> -EndRange <IPAddress>   (WithRange: both or neither; no -SubnetMask)
 *   Remove-DhcpServerv4Scope [-ScopeId] <IPAddress[]> [-Force]
 *   Set-DhcpServerv4OptionValue [-PolicyName <String>] [[-ScopeId] <IPAddress>] [-Value] <String[]> [-OptionId] <UInt32>
 *   Remove-DhcpServerv4OptionValue [-OptionId] <UInt32[]> [[-ScopeId] <IPAddress>] [-PolicyName <String>]
 *   Set-DhcpServerv4Policy [-Name] <String> [[-ScopeId] <IPAddress>] [-Enabled <Boolean>] [-UserClass <String[]>]
 *       [-ProcessingOrder <UInt16>] [-Condition <String>] [-VendorClass <String[]>]
 *       ("If the VendorClass parameter is specified ... the existing VendorClass parameter value is removed and the
 *       new VendorClass parameter value is added"; other criteria are kept, hence Remove + Add for a stray criterion)
 *   Remove-DhcpServerv4Policy [-Name] <String[]> [[-ScopeId] <IPAddress>]
 *   Add-DhcpServerv4Policy [-Name] <String> [-Condition] <String> [-ScopeId <IPAddress>] [-ProcessingOrder <UInt16>] [-UserClass <String[]>]
 *   Set-DhcpServerv4Class [-Name] <String> [-Type] <String> [[-Data] <String>]   (-Type is mandatory)
 *   Remove-DhcpServerv4Class [-Name] <String[]> [-Type] <String>
 *   Add-DhcpServerv4Class [-Name] <String> [-Type] <String> [-Data] <String>
 *   Remove-DhcpServerv4Reservation [-ScopeId] <IPAddress> [-ClientId] <String[]>
 *   Add-DhcpServerv4Reservation [-ScopeId] <IPAddress> [-IPAddress] <IPAddress> [-ClientId] <String> [-Name <String>]
 *   Set-DhcpServerv4Reservation [-IPAddress] <IPAddress> [-Name <String>]
 */
const DRIFT: Record<string, string[]> = {
    // The mask cannot be set on an existing scope: it goes, and everything in it comes back (the
    // classes are server-wide and stay).
    "subnet-mask": [
        "Remove-DhcpServerv4Scope -ScopeId '10.20.0.0' -Force",
        "Add-DhcpServerv4Scope -Name 'compute' -StartRange '10.20.0.100' -EndRange '10.20.0.150' -SubnetMask '255.255.255.0' " +
            "-LeaseDuration '1.00:00:00' -State Active -ActivatePolicies $true",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 3 -Value '10.20.0.1'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 17 -Value '10.20.0.5:/ltsp/i386/'",
        "Add-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.20.0.0' -ProcessingOrder 1 -Condition OR -UserClass 'EQ','netboot iPXE'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-ipxe' -OptionId 66 -Value '10.20.0.5'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-ipxe' -OptionId 67 -Value 'ltsp/ltsp.ipxe'",
        "Add-DhcpServerv4Policy -Name 'netboot-uefi' -ScopeId '10.20.0.0' -ProcessingOrder 2 -Condition OR -VendorClass 'EQ','netboot PXE UEFI x64*'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-uefi' -OptionId 66 -Value '10.20.0.5'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-uefi' -OptionId 67 -Value 'ltsp/snponly.efi'",
        "Add-DhcpServerv4Policy -Name 'netboot-bios' -ScopeId '10.20.0.0' -ProcessingOrder 3 -Condition OR -VendorClass 'EQ','netboot PXE BIOS*'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-bios' -OptionId 66 -Value '10.20.0.5'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-bios' -OptionId 67 -Value 'ltsp/undionly.kpxe'",
        "Add-DhcpServerv4Reservation -ScopeId '10.20.0.0' -IPAddress '10.20.0.11' -ClientId '52-54-00-20-00-01' -Name 'node01'",
    ],
    "scope-name": ["Set-DhcpServerv4Scope -ScopeId '10.20.0.0' -Name 'compute'"],
    "scope-range": ["Set-DhcpServerv4Scope -ScopeId '10.20.0.0' -StartRange '10.20.0.100' -EndRange '10.20.0.150'"],
    // 691200 s = 8 days, Windows' default lease; 86400 s wanted = 1.00:00:00.
    "scope-lease-state": ["Set-DhcpServerv4Scope -ScopeId '10.20.0.0' -LeaseDuration '1.00:00:00' -State Active"],
    "scope-policies-off": ["Set-DhcpServerv4Scope -ScopeId '10.20.0.0' -ActivatePolicies $true"],
    "option-value": ["Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 3 -Value '10.20.0.1'"],
    // DNS servers (6) are ours to manage and none are wanted.
    "option-stale": ["Remove-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 6"],
    "policy-option-value": ["Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-uefi' -OptionId 67 -Value 'ltsp/snponly.efi'"],
    "policy-option-extra": ["Remove-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-bios' -OptionId 17"],
    "policy-class-values": ["Set-DhcpServerv4Policy -Name 'netboot-bios' -ScopeId '10.20.0.0' -VendorClass 'EQ','netboot PXE BIOS*'"],
    "policy-comparator": ["Set-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.20.0.0' -UserClass 'EQ','netboot iPXE'"],
    // The read script writes the condition as the WMI class does ("And"/"Or"): "Or" matches OR, "And" does not.
    "policy-condition-and": ["Set-DhcpServerv4Policy -Name 'netboot-uefi' -ScopeId '10.20.0.0' -Condition OR"],
    "policy-order-disabled": ["Set-DhcpServerv4Policy -Name 'netboot-uefi' -ScopeId '10.20.0.0' -ProcessingOrder 2 -Enabled $true"],
    "policy-foreign-criterion": [
        "Remove-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.20.0.0'",
        "Add-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.20.0.0' -ProcessingOrder 1 -Condition OR -UserClass 'EQ','netboot iPXE'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-ipxe' -OptionId 66 -Value '10.20.0.5'",
        "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-ipxe' -OptionId 67 -Value 'ltsp/ltsp.ipxe'",
    ],
    "class-data": ["Set-DhcpServerv4Class -Name 'netboot PXE UEFI x64' -Type Vendor -Data 'PXEClient:Arch:00007'"],
    "class-type": [
        "Remove-DhcpServerv4Class -Name 'netboot iPXE' -Type Vendor",
        "Add-DhcpServerv4Class -Name 'netboot iPXE' -Type User -Data 'iPXE'",
    ],
    // A reservation's address cannot be changed in place (Set-DhcpServerv4Reservation selects by -IPAddress).
    "reservation-ip": [
        "Remove-DhcpServerv4Reservation -ScopeId '10.20.0.0' -ClientId '52-54-00-20-00-01'",
        "Add-DhcpServerv4Reservation -ScopeId '10.20.0.0' -IPAddress '10.20.0.11' -ClientId '52-54-00-20-00-01' -Name 'node01'",
    ],
    // The address belongs to another client (a replaced board): that reservation goes first.
    "reservation-client": [
        "Remove-DhcpServerv4Reservation -ScopeId '10.20.0.0' -ClientId '52-54-00-20-00-99'",
        "Add-DhcpServerv4Reservation -ScopeId '10.20.0.0' -IPAddress '10.20.0.11' -ClientId '52-54-00-20-00-01' -Name 'node01'",
    ],
    "reservation-name": ["Set-DhcpServerv4Reservation -IPAddress '10.20.0.11' -Name 'node01'"],
};

describe("Windows DHCP Server: every managed field is compared (transcripts of drift)", () => {
    const desired = desiredWindowsScope(windowsScope());

    it("the in-sync transcript needs nothing", () => {
        expect(planWindowsScope(desired, windowsState("in-sync"), ownsAll(windowsState("in-sync")))).toEqual([]);
    });

    it("every drift transcript in test/fixtures/windows has its expected cmdlets here, and every case its transcript", () => {
        const files = readdirSync(WINDOWS_FIXTURES)
            .filter((f) => f.startsWith("drift-") && f.endsWith(".state.json"))
            .map((f) => f.slice("drift-".length, -".state.json".length))
            .sort();
        expect(files).toEqual(Object.keys(DRIFT).sort());
    });

    for (const [name, expected] of Object.entries(DRIFT)) {
        it(`drift-${name}: ${expected.length === 1 ? expected[0] : `${expected.length} cmdlets`}`, () => {
            // As the resource that created all of it sees the drift (ownsAll): what it made is its own to remove.
            const state = windowsState(`drift-${name}`);
            expect(planWindowsScope(desired, state, ownsAll(state))).toEqual(expected);
        });
    }

    it("removals carry the condition of their drift, so a second run does not undo the first", () => {
        const conditionOf = (name: string, cmdlet: string) =>
            planWindowsActions(desired, windowsState(`drift-${name}`), ownsAll(windowsState(`drift-${name}`))).find((a) => a.cmdlet === cmdlet)
                ?.onlyIf;
        // The scope goes only while its mask is still another one (and it exists at all).
        expect(conditionOf("subnet-mask", "Remove-DhcpServerv4Scope -ScopeId '10.20.0.0' -Force")).toBe(
            "(Get-DhcpServerv4Scope -ScopeId '10.20.0.0' -ErrorAction SilentlyContinue).SubnetMask.IPAddressToString -notin @($null, '255.255.255.0')",
        );
        // The policy goes only while it still has a criterion we do not set.
        expect(conditionOf("policy-foreign-criterion", "Remove-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.20.0.0'")).toBe(
            "Get-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.20.0.0' -ErrorAction SilentlyContinue | " +
                "Where-Object { $_.VendorClass -or $_.MacAddress -or $_.ClientId -or $_.RelayAgent -or $_.CircuitId -or $_.RemoteId -or $_.SubscriberId -or $_.Fqdn }",
        );
        // A reservation goes only while the client still holds the old address.
        expect(conditionOf("reservation-ip", "Remove-DhcpServerv4Reservation -ScopeId '10.20.0.0' -ClientId '52-54-00-20-00-01'")).toBe(
            "$reserved['52-54-00-20-00-01'] -eq '10.20.0.12'",
        );
    });
});

describe("Windows DHCP Server: an adopted scope (no record of what this resource made) loses nothing it did not create", () => {
    const adopting = { ...desiredWindowsScope(windowsScope()), adopt: true };
    const plan = (name: string) => planWindowsScope(adopting, windowsState(`drift-${name}`));
    const refusal = (name: string) => {
        try {
            return `planned: ${plan(name).join("; ")}`;
        } catch (err) {
            return (err as Error).message;
        }
    };

    it("options and policy options it did not set stay (drift-option-stale: 6; drift-policy-option-extra: 17 in netboot-bios)", () => {
        expect(plan("option-stale")).toEqual([]);
        expect(plan("policy-option-extra")).toEqual([]);
    });

    it("what could only be made right by removing something it did not create is refused, in one line naming it", () => {
        expect(refusal("reservation-client")).toBe(
            "nodes: node01 10.20.0.11 is reserved in DHCP scope 10.20.0.0 on 10.20.0.2 for client 52-54-00-20-00-99 'old-board', " +
                "which this resource did not create; nothing was changed",
        );
        expect(refusal("policy-foreign-criterion")).toBe(
            "policy 'netboot-ipxe' in DHCP scope 10.20.0.0 on 10.20.0.2 was not created by this resource and has criteria it cannot clear (MacAddress); nothing was changed",
        );
        expect(refusal("class-data")).toBe(
            "class 'netboot PXE UEFI x64' on 10.20.0.2 has data 'PXEClient:Arch:00009', not 'PXEClient:Arch:00007', and this resource did not create it; nothing was changed",
        );
        expect(refusal("class-type")).toBe(
            "class 'netboot iPXE' on 10.20.0.2 is a Vendor class this resource did not create (it needs a User class of that name); nothing was changed",
        );
        expect(refusal("subnet-mask")).toBe(
            "subnet: 10.20.0.0/24: DHCP scope 10.20.0.0 on 10.20.0.2 has mask 255.255.254.0 (Windows fixes a scope's mask when it is added) " +
                "and this resource did not create it, so does not remove it; nothing was changed",
        );
    });

    it("without windows.adopt an existing scope is refused, whatever it holds", () => {
        expect(() => planWindowsScope(desiredWindowsScope(windowsScope()), windowsState("in-sync"))).toThrow(
            "windows.adopt: false: DHCP scope 10.20.0.0 on 10.20.0.2 ('compute') exists and this resource did not create it; nothing was changed. " +
                "Set windows.adopt: true to manage it (what it did not create is kept)",
        );
    });
});
