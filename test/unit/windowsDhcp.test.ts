import { describe, expect, it } from "vitest";
import { validateScope } from "../../lib/dhcp/scopeSpec";
import { leaseDuration } from "../../lib/dhcp/windows/actions";
import { decodeCommandLine, encodedCommand } from "../../lib/dhcp/windows/commandLine";
import { desiredWindowsScope } from "../../lib/dhcp/windows/desired";
import { planWindowsScope } from "../../lib/dhcp/windows/plan";
import { readScript } from "../../lib/dhcp/windows/read";
import { windowsRemovalSteps } from "../../lib/dhcp/windows/removal";
import { windowsReplaceKeys } from "../../lib/dhcp/windows/replace";
import { windowsApplySteps } from "../../lib/dhcp/windows/steps";
import { expectGolden, ownsAll, windowsScope as scope, windowsState as state } from "./windowsFixtures";

/*
 * Expected cmdlet lines below follow the DhcpServer module's documented syntax (learn.microsoft.com,
 * powershell/module/dhcpserver, also MicrosoftDocs/windows-powershell-docs docset/winserver2025-ps/DhcpServer):
 *   Add-DhcpServerv4Scope [-StartRange] <IPAddress> [-EndRange] <IPAddress> [-Name] <String> [-State <String>]
 *       [-ActivatePolicies <Boolean>] [-LeaseDuration <TimeSpan>] [-SubnetMask] <IPAddress>   (no -ScopeId: it follows from range and mask)
 *   Set-DhcpServerv4OptionValue [-PolicyName <String>] [[-ScopeId] <IPAddress>] [-Value] <String[]> [-OptionId] <UInt32>
 *   Remove-DhcpServerv4OptionValue [-OptionId] <UInt32[]> [[-ScopeId] <IPAddress>] [-PolicyName <String>]
 *   Add-DhcpServerv4Class [-Name] <String> [-Type] <String> [-Data] <String>              (Type: Vendor or User)
 *   Add-DhcpServerv4Policy [-Name] <String> [-Condition] <String> [-ScopeId <IPAddress>] [-ProcessingOrder <UInt16>]
 *       [-VendorClass <String[]>] [-UserClass <String[]>]; example 9: -VendorClass "EQ","Android"; -Condition AND or OR
 *   Add-DhcpServerv4Reservation [-ScopeId] <IPAddress> [-IPAddress] <IPAddress> [-ClientId] <String> [-Name <String>]
 *   Remove-DhcpServerv4Reservation [-ScopeId] <IPAddress> [-ClientId] <String[]>
 *   Remove-DhcpServerv4Scope [-ScopeId] <IPAddress[]> [-Force]   (-Force: "deletes a scope even if it contains active leases")
 * LeaseDuration is written as the documented `day.hrs:mins:secs` (Set-DhcpServerv4Scope example: 4.00:00:00).
 */

/** The scripts the steps send, decoded. */
function sentScripts(steps: { commandLine: string }[]): string[] {
    return steps.map((s) => decodeCommandLine(s.commandLine));
}

describe("Windows DHCP Server: plan and PowerShell", () => {
    it("an empty server gets the scope, options, classes, policies and reservations (golden)", () => {
        const desired = desiredWindowsScope(scope());
        const commands = planWindowsScope(desired, state("empty-server"));
        expect(commands).toEqual([
            "Add-DhcpServerv4Scope -Name 'compute' -StartRange '10.20.0.100' -EndRange '10.20.0.150' -SubnetMask '255.255.255.0' " +
                "-LeaseDuration '1.00:00:00' -State Active -ActivatePolicies $true",
            "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 3 -Value '10.20.0.1'",
            "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 17 -Value '10.20.0.5:/ltsp/i386/'",
            "Add-DhcpServerv4Class -Name 'netboot PXE BIOS' -Type Vendor -Data 'PXEClient:Arch:00000'",
            "Add-DhcpServerv4Class -Name 'netboot PXE UEFI x64' -Type Vendor -Data 'PXEClient:Arch:00007'",
            "Add-DhcpServerv4Class -Name 'netboot iPXE' -Type User -Data 'iPXE'",
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
        ]);
        const steps = windowsApplySteps(desired, state("empty-server"));
        expect(steps).toHaveLength(1);
        expect(steps[0]).toMatchObject({ kind: "remote-script", mutating: true, what: "configure DHCP scope 10.20.0.0: 16 DhcpServer cmdlets" });
        expectGolden("apply-empty-server.ps1", sentScripts(steps)[0]);
    });

    it("a drifted server: stale scope-level 66/67 removed, root path fixed, missing classes and policies added, reservations reconciled (golden)", () => {
        const desired = desiredWindowsScope(scope());
        // Made by this resource (an older version of it): what it made and no longer wants is its own to remove.
        const commands = planWindowsScope(desired, state("drifted"), ownsAll(state("drifted")));
        expect(commands).toEqual([
            "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 17 -Value '10.20.0.5:/ltsp/i386/'",
            "Remove-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 66",
            "Remove-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 67",
            "Add-DhcpServerv4Class -Name 'netboot PXE UEFI x64' -Type Vendor -Data 'PXEClient:Arch:00007'",
            "Add-DhcpServerv4Class -Name 'netboot iPXE' -Type User -Data 'iPXE'",
            "Add-DhcpServerv4Policy -Name 'netboot-ipxe' -ScopeId '10.20.0.0' -ProcessingOrder 1 -Condition OR -UserClass 'EQ','netboot iPXE'",
            "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-ipxe' -OptionId 66 -Value '10.20.0.5'",
            "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-ipxe' -OptionId 67 -Value 'ltsp/ltsp.ipxe'",
            "Add-DhcpServerv4Policy -Name 'netboot-uefi' -ScopeId '10.20.0.0' -ProcessingOrder 2 -Condition OR -VendorClass 'EQ','netboot PXE UEFI x64*'",
            "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-uefi' -OptionId 66 -Value '10.20.0.5'",
            "Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -PolicyName 'netboot-uefi' -OptionId 67 -Value 'ltsp/snponly.efi'",
            "Remove-DhcpServerv4Reservation -ScopeId '10.20.0.0' -ClientId '52-54-00-20-00-09'",
        ]);
        const steps = windowsApplySteps(desired, state("drifted"), undefined, ownsAll(state("drifted")));
        expect(steps).toHaveLength(1);
        expectGolden("apply-drifted.ps1", sentScripts(steps)[0]);
    });

    it("a server that matches (in-sync.state.json) needs no cmdlet and no step", () => {
        const desired = desiredWindowsScope(scope());
        expect(planWindowsScope(desired, state("in-sync"), ownsAll(state("in-sync")))).toEqual([]);
        expect(windowsApplySteps(desired, state("in-sync"), undefined, ownsAll(state("in-sync")))).toEqual([]);
    });

    it("every Add and Remove runs only while still needed, so a script can run twice", () => {
        const script = sentScripts(windowsApplySteps(desiredWindowsScope(scope()), state("drifted"), undefined, ownsAll(state("drifted"))))[0];
        for (const line of script.split("\n").filter((l) => /^(if \(.*\) \{ )?(Add|Remove)-/.test(l))) {
            expect(line).toMatch(/^if \(.+\) \{ (Add|Remove)-DhcpServerv4\w+ .+ \}$/);
        }
        // The reservations' condition reads the scope's reservations once, before the first one.
        expect(script).toContain(
            "$reserved = @{}; Get-DhcpServerv4Reservation -ScopeId '10.20.0.0' | ForEach-Object { $reserved[$_.ClientId] = $_.IPAddress.IPAddressToString }\n" +
                "if ($reserved['52-54-00-20-00-09'] -eq '10.20.0.19') { Remove-DhcpServerv4Reservation -ScopeId '10.20.0.0' -ClientId '52-54-00-20-00-09' }",
        );
    });

    it("root path keeps the trailing slash LTSP admins used against the NUL Windows appends", () => {
        expect(desiredWindowsScope(scope()).options.get(17)).toEqual(["10.20.0.5:/ltsp/i386/"]);
    });

    it("option 60 PXEClient only when PXE runs on the DHCP host itself (and its definition is added)", () => {
        expect(desiredWindowsScope(scope()).options.has(60)).toBe(false);
        const onHost = planWindowsScope(
            desiredWindowsScope(scope({ windows: { scopeId: "10.20.0.0", pxeServerOnDhcpHost: true } })),
            state("empty-server"),
        );
        // Add-DhcpServerv4OptionDefinition [-Name] <String> [-OptionId] <UInt32> [-Type] <String>
        expect(onHost).toContain("Add-DhcpServerv4OptionDefinition -OptionId 60 -Name 'PXEClient' -Type String");
        expect(onHost).toContain("Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 60 -Value 'PXEClient'");
        // The definition comes before the first value that needs it.
        expect(onHost.indexOf("Add-DhcpServerv4OptionDefinition -OptionId 60 -Name 'PXEClient' -Type String")).toBeLessThan(
            onHost.indexOf("Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 60 -Value 'PXEClient'"),
        );
    });

    it("lease durations in the documented day.hrs:mins:secs form", () => {
        // 86400 s is one day; 43200 s (the schema's default) twelve hours; 691200 s eight days.
        expect(leaseDuration(86400)).toBe("1.00:00:00");
        expect(leaseDuration(43200)).toBe("0.12:00:00");
        expect(leaseDuration(691200)).toBe("8.00:00:00");
        expect(leaseDuration(3661)).toBe("0.01:01:01");
    });

    it("rejects a scope ID that does not match the subnet, and a boot server given by name", () => {
        const mismatch = validateScope({ ...scope(), windows: { scopeId: "10.20.1.0" } });
        expect(mismatch.ok ? [] : mismatch.failures.map((f) => f.reason)).toContain(
            'windows.scopeId: "10.20.1.0" does not match subnet 10.20.0.0/24, whose scope ID is 10.20.0.0',
        );
        const byName = validateScope({ ...scope(), boot: { nextServer: "ltsp-server" } });
        expect(byName.ok ? [] : byName.failures.map((f) => f.reason)).toContain(
            'boot.nextServer: "ltsp-server" is not an IPv4 address (like 192.168.67.1)',
        );
    });

    it("a change of network or scope ID replaces the scope; the same network written otherwise, or with another prefix, does not", () => {
        const olds = { subnet: "10.20.0.0/24", windows: { scopeId: "10.20.0.0" } };
        expect(windowsReplaceKeys(olds, { subnet: "10.20.0.0/24", windows: { scopeId: "10.20.0.0" } })).toEqual([]);
        expect(windowsReplaceKeys(olds, { subnet: "10.20.0.7/24", windows: { scopeId: "10.20.0.0" } })).toEqual([]);
        // Same scope ID, other mask: an update, whose plan removes the scope only where that is safe
        // (a replacement would delete it first, whatever it holds).
        expect(windowsReplaceKeys(olds, { subnet: "10.20.0.0/23", windows: { scopeId: "10.20.0.0" } })).toEqual([]);
        expect(windowsReplaceKeys(olds, { subnet: "10.21.0.0/24", windows: { scopeId: "10.21.0.0" } })).toEqual(["subnet", "windows.scopeId"]);
    });

    it("scripts stop on the first error and travel as -EncodedCommand (UTF-16LE base64)", () => {
        expect(readScript("10.20.0.0").startsWith("$id = '10.20.0.0'\n")).toBe(true);
        expect(readScript("10.20.0.0")).toContain("\n$ErrorActionPreference = 'Stop'\n");
        const line = encodedCommand("Write-Output 'x'");
        const b64 = line.split(" ").pop()!;
        expect(Buffer.from(b64, "base64").toString("utf16le")).toBe("Write-Output 'x'");
        expect(line).toMatch(/^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand /);
        expect(decodeCommandLine(line)).toBe("Write-Output 'x'");
        const [removal] = windowsRemovalSteps("10.20.0.0", "10.20.0.2", state("in-sync"), ownsAll(state("in-sync")));
        expect(removal).toMatchObject({ kind: "remote-script", what: "remove DHCP scope 10.20.0.0: 4 DhcpServer cmdlets", mutating: true });
        expect(decodeCommandLine(removal.commandLine)).toContain(
            "if (Get-DhcpServerv4Scope -ScopeId '10.20.0.0' -ErrorAction SilentlyContinue) { Remove-DhcpServerv4Scope -ScopeId '10.20.0.0' -Force }",
        );
    });

    it("quotes values so nothing in them is interpreted", () => {
        const commands = planWindowsScope(desiredWindowsScope(scope({ name: "it-s" })), state("empty-server"));
        expect(commands[0]).toContain("-Name 'it-s'");
        const renamed = planWindowsScope(
            desiredWindowsScope(
                scope({ nodes: [{ nodeName: "n1", mac: "52:54:00:20:00:01", hostname: "node01", image: "mosix", ip: "10.20.0.11" }] }),
            ),
            { ...state("in-sync"), reservations: [{ IPAddress: "10.20.0.11", ClientId: "52-54-00-20-00-01", Name: "O'Brien's pc" }] },
            ownsAll(state("in-sync")),
        );
        expect(renamed).toEqual(["Set-DhcpServerv4Reservation -IPAddress '10.20.0.11' -Name 'node01'"]);
        expect(readScript("10.20.0.0'; Remove-Item x; '")).toContain("$id = '10.20.0.0''; Remove-Item x; '''");
    });
});
