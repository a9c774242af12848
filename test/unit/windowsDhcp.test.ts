import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateScope } from "../../lib/dhcp/scopeSpec";
import {
    desiredWindowsScope,
    encodedCommand,
    parseWindowsState,
    planWindowsScope,
    readScript,
    removalScript,
    renderScript,
    WindowsState,
} from "../../lib/dhcp/windows";
import { TEST_KEY, TEST_PIN } from "./helpers";
import { golden as compareGolden } from "./support/golden";

const FIXTURES = join(__dirname, "..", "fixtures", "windows");

function scope(overrides: Record<string, unknown> = {}) {
    const result = validateScope({
        kind: "windows",
        connection: { host: "10.20.0.2", user: "administrator", sudo: true, privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
        name: "compute",
        subnet: "10.20.0.0/24",
        rangeStart: "10.20.0.100",
        rangeEnd: "10.20.0.150",
        router: "10.20.0.1",
        leaseSeconds: 86400,
        boot: { nextServer: "10.20.0.5", rootPath: "10.20.0.5:/ltsp/i386" },
        nodes: [{ nodeName: "node01", mac: "52:54:00:20:00:01", hostname: "node01", image: "mosix", ip: "10.20.0.11" }],
        windows: { scopeId: "10.20.0.0" },
        ...overrides,
    });
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

function state(name: string): WindowsState {
    return parseWindowsState(readFileSync(join(FIXTURES, `${name}.state.json`), "utf8"));
}

function golden(name: string, text: string) {
    compareGolden(join(FIXTURES, name), text);
}

describe("Windows DHCP Server: plan and PowerShell", () => {
    it("an empty server gets the scope, options, classes, policies and reservations (golden)", () => {
        const commands = planWindowsScope(desiredWindowsScope(scope()), state("empty-server"));
        golden("apply-empty-server.ps1", renderScript(commands));
        // Boot files only through policies: no scope-level 66/67.
        expect(commands.some((c) => /-ScopeId '10\.20\.0\.0' -OptionId 6[67]/.test(c))).toBe(false);
        expect(commands).toContain("Add-DhcpServerv4Reservation -ScopeId '10.20.0.0' -IPAddress '10.20.0.11' -ClientId '52-54-00-20-00-01' -Name 'node01'");
    });

    it("a drifted server: stale scope-level 66/67 removed, root path fixed, reservations reconciled (golden)", () => {
        const commands = planWindowsScope(desiredWindowsScope(scope()), state("drifted"));
        golden("apply-drifted.ps1", renderScript(commands));
        expect(commands).toContain("Remove-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 66,67");
        expect(commands).toContain("Remove-DhcpServerv4Reservation -ScopeId '10.20.0.0' -ClientId '52-54-00-20-00-09'");
        expect(commands.some((c) => c.includes("netboot-bios"))).toBe(false);
    });

    it("is idempotent: a server that matches needs no cmdlet", () => {
        const desired = desiredWindowsScope(scope());
        let current = state("empty-server");
        // Play the plan forward on a model of the server, as the cmdlets would.
        current = {
            scope: desired.scope,
            options: [
                ...[...desired.options].map(([OptionId, Value]) => ({ OptionId, Value, PolicyName: null })),
                ...desired.policies.flatMap((p) => [
                    { OptionId: 66, Value: [desired.nextServer], PolicyName: p.Name },
                    { OptionId: 67, Value: [p.bootFile], PolicyName: p.Name },
                ]),
            ],
            reservations: desired.reservations,
            classes: [
                { Name: "netboot PXE BIOS", Type: "Vendor", Data: "PXEClient:Arch:00000" },
                { Name: "netboot PXE UEFI x64", Type: "Vendor", Data: "PXEClient:Arch:00007" },
                { Name: "netboot iPXE", Type: "User", Data: "iPXE" },
            ],
            policies: desired.policies.map((p) => ({ Name: p.Name, ProcessingOrder: p.ProcessingOrder, VendorClass: [], UserClass: [] })),
            optionDefinitions: current.optionDefinitions,
        };
        expect(planWindowsScope(desired, current)).toEqual([]);
    });

    it("root path keeps the trailing slash LTSP admins used against the NUL Windows appends", () => {
        expect(desiredWindowsScope(scope()).options.get(17)).toEqual(["10.20.0.5:/ltsp/i386/"]);
    });

    it("option 60 PXEClient only when PXE runs on the DHCP host itself (and its definition is added)", () => {
        expect(desiredWindowsScope(scope()).options.has(60)).toBe(false);
        const onHost = planWindowsScope(desiredWindowsScope(scope({ windows: { scopeId: "10.20.0.0", pxeServerOnDhcpHost: true } })), state("empty-server"));
        expect(onHost).toContain("Add-DhcpServerv4OptionDefinition -OptionId 60 -Name 'PXEClient' -Type String");
        expect(onHost).toContain("Set-DhcpServerv4OptionValue -ScopeId '10.20.0.0' -OptionId 60 -Value 'PXEClient'");
    });

    it("rejects a scope ID that does not match the subnet, and a boot server given by name", () => {
        const mismatch = validateScope({ ...scope(), windows: { scopeId: "10.20.1.0" } });
        expect(mismatch.ok ? [] : mismatch.failures.map((f) => f.reason)).toContain(
            'windows.scopeId: "10.20.1.0" does not match subnet 10.20.0.0/24, whose scope ID is 10.20.0.0',
        );
        const byName = validateScope({ ...scope(), boot: { nextServer: "ltsp-server" } });
        expect(byName.ok ? [] : byName.failures.map((f) => f.reason)).toContain('boot.nextServer: "ltsp-server" is not an IPv4 address (like 192.168.67.1)');
    });

    it("scripts stop on the first error and travel as -EncodedCommand (UTF-16LE base64)", () => {
        expect(readScript("10.20.0.0").startsWith("$ErrorActionPreference = 'Stop'")).toBe(true);
        expect(removalScript("10.20.0.0")).toContain("Remove-DhcpServerv4Scope -ScopeId '10.20.0.0' -Force");
        const line = encodedCommand("Write-Output 'x'");
        const b64 = line.split(" ").pop()!;
        expect(Buffer.from(b64, "base64").toString("utf16le")).toBe("Write-Output 'x'");
        expect(line).toMatch(/^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand /);
    });

    it("quotes values so nothing in them is interpreted", () => {
        const commands = planWindowsScope(desiredWindowsScope(scope({ name: "it-s" })), state("empty-server"));
        expect(commands[0]).toContain("-Name 'it-s'");
        expect(renderScript(["Set-X -Name 'O''Brien'"])).toContain("'O''Brien'");
    });
});
