import { describe, expect, it } from "vitest";
import {
    CMD_EXE_COMMAND_LINE_LIMIT,
    COMMAND_LINE_BUDGET,
    decodeCommandLine,
    encodedCommand,
    encodedCommandLength,
    packScripts,
} from "../../lib/dhcp/windows/commandLine";
import { desiredWindowsScope } from "../../lib/dhcp/windows/desired";
import { readScript, windowsReadCommandLine } from "../../lib/dhcp/windows/read";
import { windowsApplySteps } from "../../lib/dhcp/windows/steps";
import { bigWindowsScope, windowsScope, windowsState } from "./windowsFixtures";

const RESERVATIONS = 1400;
const big = desiredWindowsScope(bigWindowsScope(RESERVATIONS));
const bigSteps = windowsApplySteps(big, windowsState("empty-server"));
const longest = Math.max(...bigSteps.map((s) => s.commandLine.length));

/** How often `needle` occurs in `haystack`. */
function occurrences(haystack: string, needle: string): number {
    let count = 0;
    for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) count++;
    return count;
}

describe("Windows DHCP Server: every command line fits cmd.exe (8191 characters)", () => {
    it(`${RESERVATIONS} reservations on an empty server: ${bigSteps.length} scripts, longest command line ${longest} characters (limit ${CMD_EXE_COMMAND_LINE_LIMIT})`, () => {
        expect(big.reservations).toHaveLength(RESERVATIONS);
        for (const step of bigSteps) {
            expect(step.kind).toBe("remote-script");
            expect(step.mutating).toBe(true);
            expect(step.what).not.toContain("\n");
            expect(step.commandLine.length).toBeLessThan(CMD_EXE_COMMAND_LINE_LIMIT);
            expect(step.commandLine.length).toBeLessThanOrEqual(COMMAND_LINE_BUDGET);
        }
        const scripts = bigSteps.map((s) => decodeCommandLine(s.commandLine));
        const all = scripts.join("\n");
        // Every reservation exactly once, and nothing else adds one.
        for (const r of big.reservations) {
            const add = `Add-DhcpServerv4Reservation -ScopeId '10.30.0.0' -IPAddress '${r.IPAddress}' -ClientId '${r.ClientId}' -Name '${r.Name}'`;
            expect(occurrences(all, add), add).toBe(1);
        }
        expect(occurrences(all, "Add-DhcpServerv4Reservation ")).toBe(RESERVATIONS);
        // The scope itself once, in the first script, before anything that needs it.
        expect(occurrences(all, "Add-DhcpServerv4Scope ")).toBe(1);
        expect(scripts[0]).toContain(
            "Add-DhcpServerv4Scope -Name 'compute' -StartRange '10.30.15.1' -EndRange '10.30.15.200' -SubnetMask '255.255.240.0'",
        );
        // Each script stands alone: stops on the first error, and reads the reservations its conditions use.
        for (const script of scripts) {
            expect(script.startsWith("$ErrorActionPreference = 'Stop'\n")).toBe(true);
            const snapshot = script.indexOf("$reserved = @{}; Get-DhcpServerv4Reservation -ScopeId '10.30.0.0'");
            const firstUse = script.indexOf("if ($reserved[");
            if (firstUse !== -1) expect(snapshot).toBeGreaterThan(-1);
            if (firstUse !== -1) expect(snapshot).toBeLessThan(firstUse);
            expect(occurrences(script, "$reserved = @{}")).toBeLessThanOrEqual(1);
        }
        // The steps' one-line descriptions count what they carry.
        expect(bigSteps[bigSteps.length - 1].what).toMatch(
            new RegExp(`^configure DHCP scope 10\\.30\\.0\\.0: \\d+ DhcpServer cmdlets, script ${bigSteps.length} of ${bigSteps.length}$`),
        );
    });

    it(`a server that already has the ${RESERVATIONS} reservations needs nothing; one moved node needs two cmdlets in one script`, () => {
        // The server's side written from the node list (ClientId: the MAC with dashes, as Windows shows it).
        const spec = bigWindowsScope(RESERVATIONS);
        const onServer = spec.nodes.map((n) => ({ IPAddress: n.ip!, ClientId: n.mac.replace(/:/g, "-"), Name: n.hostname }));
        const base = windowsState("in-sync");
        const server = {
            ...base,
            scope: { ...base.scope!, ScopeId: "10.30.0.0", StartRange: "10.30.15.1", EndRange: "10.30.15.200", SubnetMask: "255.255.240.0" },
            options: base.options
                .map((o) => (o.OptionId === 3 ? { ...o, Value: ["10.30.0.1"] } : o.OptionId === 66 ? { ...o, Value: ["10.30.0.5"] } : o))
                .filter((o) => o.OptionId !== 17),
            reservations: onServer,
        };
        // An existing scope with these reservations: adopted (this resource did not create it).
        const adopting = { ...big, adopt: true };
        expect(windowsApplySteps(adopting, server)).toEqual([]);
        // node0700 is node index 699: address 10 + 699 = 709 = 2 * 256 + 197, so 10.30.2.197; MAC 52:54:00:30:02:bb (699 = 0x2bb).
        const moved = { ...server, reservations: onServer.map((r) => (r.Name === "node0700" ? { ...r, IPAddress: "10.30.14.1" } : r)) };
        const steps = windowsApplySteps(adopting, moved);
        expect(steps).toHaveLength(1);
        expect(
            decodeCommandLine(steps[0].commandLine)
                .split("\n")
                .filter((l) => l.startsWith("if (")),
        ).toEqual([
            "if ($reserved['52-54-00-30-02-bb'] -eq '10.30.14.1') { Remove-DhcpServerv4Reservation -ScopeId '10.30.0.0' -ClientId '52-54-00-30-02-bb' }",
            "if ($reserved['52-54-00-30-02-bb'] -ne '10.30.2.197') { Add-DhcpServerv4Reservation -ScopeId '10.30.0.0' -IPAddress '10.30.2.197' -ClientId '52-54-00-30-02-bb' -Name 'node0700' }",
        ]);
    });

    it(`the read script fits too: ${windowsReadCommandLine("255.255.255.255").length} characters for the longest scope ID`, () => {
        expect(windowsReadCommandLine("255.255.255.255").length).toBeLessThanOrEqual(COMMAND_LINE_BUDGET);
        expect(decodeCommandLine(windowsReadCommandLine("10.20.0.0"))).toBe(readScript("10.20.0.0"));
        // What stays home: comment lines; what goes: every cmdlet of the file.
        expect(readScript("10.20.0.0")).not.toMatch(/^\s*#/m);
        for (const cmdlet of [
            "Get-DhcpServerv4Scope",
            "Get-DhcpServerv4OptionValue",
            "Get-DhcpServerv4Policy",
            "Get-DhcpServerv4Reservation",
            "Get-DhcpServerv4Class",
            "Get-DhcpServerv4OptionDefinition",
            "Get-DhcpServerv4Lease",
            "ConvertTo-Json",
        ]) {
            expect(readScript("10.20.0.0")).toContain(cmdlet);
        }
    });

    it("encodedCommandLength is the length of the command line, without building it", () => {
        for (const script of ["", "x", "xy", "xyz", "Write-Output 'é€𝄞'", "a".repeat(1000)]) {
            expect(encodedCommandLength(script)).toBe(encodedCommand(script).length);
        }
    });

    it("packs in order, writes each setup line once per script before its first user, and respects a small budget", () => {
        const statements = Array.from({ length: 40 }, (_, i) => ({ text: `Set-Thing -Id ${i}`, setup: i >= 20 ? "$cache = Get-Thing" : undefined }));
        const scripts = packScripts(statements, 900);
        expect(scripts.length).toBeGreaterThan(1);
        for (const script of scripts) expect(encodedCommand(script).length).toBeLessThanOrEqual(900);
        const lines = scripts.flatMap((s) => s.split("\n")).filter((l) => l.startsWith("Set-Thing"));
        expect(lines).toEqual(statements.map((s) => s.text));
        for (const script of scripts) {
            const body = script.split("\n");
            const firstUser = body.findIndex((l) => /^Set-Thing -Id (2\d|3\d)$/.test(l));
            if (firstUser === -1) expect(body).not.toContain("$cache = Get-Thing");
            else expect(body[firstUser - 1]).toBe("$cache = Get-Thing");
            expect(body.filter((l) => l === "$cache = Get-Thing").length).toBeLessThanOrEqual(1);
        }
    });

    it("a statement that cannot fit a command line of its own is an error, not a truncated script", () => {
        expect(() => packScripts([{ text: `Set-Thing -Value '${"x".repeat(4000)}'` }])).toThrow(/does not fit in a 8000-character command line/);
    });

    it("a small budget splits even a small plan, and every piece keeps its guards", () => {
        const steps = windowsApplySteps(desiredWindowsScope(windowsScope()), windowsState("empty-server"), 2000);
        expect(steps.length).toBeGreaterThan(1);
        const all = steps.map((s) => decodeCommandLine(s.commandLine)).join("\n");
        expect(occurrences(all, "Add-DhcpServerv4Policy ")).toBe(3);
        expect(occurrences(all, "Add-DhcpServerv4Class ")).toBe(3);
        for (const [i, step] of steps.entries()) {
            expect(step.what).toMatch(
                new RegExp(`^configure DHCP scope 10\\.20\\.0\\.0: \\d+ DhcpServer cmdlets?, script ${i + 1} of ${steps.length}$`),
            );
        }
    });
});
