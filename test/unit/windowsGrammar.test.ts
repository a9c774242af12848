import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeCommandLine } from "../../lib/dhcp/windows/commandLine";
import { desiredWindowsScope } from "../../lib/dhcp/windows/desired";
import { readScript } from "../../lib/dhcp/windows/read";
import { windowsRemovalSteps } from "../../lib/dhcp/windows/removal";
import { windowsApplySteps } from "../../lib/dhcp/windows/steps";
import { powershellSyntaxErrors, powershellTree } from "./powershellGrammar";
import { bigWindowsScope, ownsAll, WINDOWS_FIXTURES, windowsScope, windowsState } from "./windowsFixtures";

/**
 * No PowerShell runs here, but a real PowerShell grammar does (tree-sitter-powershell): every script
 * the backend can send must parse without an ERROR or MISSING node.
 */
const desired = desiredWindowsScope(windowsScope());
const transcripts = readdirSync(WINDOWS_FIXTURES)
    .filter((f) => f.endsWith(".state.json"))
    .map((f) => f.slice(0, -".state.json".length))
    .sort();

function decodedSteps(steps: { commandLine: string }[]): string[] {
    return steps.map((s) => decodeCommandLine(s.commandLine));
}

describe("Windows DHCP Server: generated PowerShell parses (tree-sitter-powershell)", () => {
    it("the grammar is live: it flags broken PowerShell", async () => {
        expect(await powershellSyntaxErrors("Set-DhcpServerv4Scope -ScopeId '10.20.0.0' -Name 'compute'\n")).toEqual([]);
        expect(await powershellSyntaxErrors("if ($x -eq 'a' { Add-Thing }\n")).not.toEqual([]);
        expect(await powershellSyntaxErrors("Set-Thing -Name 'unterminated\n")).not.toEqual([]);
        expect(await powershellSyntaxErrors("$a = @{ b = \n")).not.toEqual([]);
        // A quote left undoubled inside a single-quoted literal (what psQuote prevents).
        expect(await powershellSyntaxErrors("Set-DhcpServerv4Reservation -IPAddress '10.20.0.11' -Name 'it's'\n")).not.toEqual([]);
    });

    it("reads a policy condition as the documented array of strings: -VendorClass 'EQ','netboot PXE BIOS*'", async () => {
        // Add-DhcpServerv4Policy example 9 writes -VendorClass "EQ","Android"; the generator uses that form.
        const tree = await powershellTree("Add-DhcpServerv4Policy -Name 'netboot-bios' -Condition OR -VendorClass 'EQ','netboot PXE BIOS*'\n");
        expect(tree).toContain("(array_literal_expression");
        // The bare form of examples 4 and 7 (-VendorClass EQ,"HP Printer") is valid PowerShell too, but this
        // grammar reads the bare word before a comma as a separate argument and reports a MISSING node:
        // one more reason the generator quotes the comparator.
        expect(await powershellSyntaxErrors("Add-DhcpServerv4Policy -Name 'p' -Condition OR -VendorClass EQ,'HP Printer'\n")).not.toEqual([]);
    });

    it("the read script and the removal scripts (of a scope created, and of one adopted)", async () => {
        expect(await powershellSyntaxErrors(readScript("10.20.0.0"))).toEqual([]);
        const owned = ownsAll(windowsState("in-sync"));
        for (const record of [owned, { ...owned, scope: "adopted" as const }]) {
            const steps = windowsRemovalSteps("10.20.0.0", "10.20.0.2", windowsState("in-sync"), record);
            expect(steps.length).toBeGreaterThan(0);
            for (const script of decodedSteps(steps)) expect(await powershellSyntaxErrors(script)).toEqual([]);
        }
    });

    it("the golden scripts", async () => {
        for (const golden of readdirSync(WINDOWS_FIXTURES).filter((f) => f.endsWith(".ps1"))) {
            expect(await powershellSyntaxErrors(readFileSync(join(WINDOWS_FIXTURES, golden), "utf8")), golden).toEqual([]);
        }
    });

    it(`the scripts for every transcript (${transcripts.length}), whole and cut into small command lines`, async () => {
        for (const name of transcripts) {
            for (const budget of [undefined, 1500]) {
                for (const script of decodedSteps(windowsApplySteps(desired, windowsState(name), budget, ownsAll(windowsState(name))))) {
                    expect(await powershellSyntaxErrors(script), `${name} (budget ${budget ?? "default"})`).toEqual([]);
                }
            }
        }
    });

    it("with option 60 and with values that need quoting", async () => {
        const quoted = desiredWindowsScope(
            windowsScope({
                windows: { scopeId: "10.20.0.0", pxeServerOnDhcpHost: true },
                dnsServers: ["10.20.0.53", "10.20.0.54"],
                domain: "o-brien.example",
            }),
        );
        const odd = { ...quoted, scope: { ...quoted.scope, Name: "it's {$(here)}" } };
        for (const script of decodedSteps(windowsApplySteps(odd, windowsState("empty-server"))))
            expect(await powershellSyntaxErrors(script)).toEqual([]);
        expect(await powershellSyntaxErrors(readScript("10.20.0.0'; $(evil) '"))).toEqual([]);
    });

    it("every script of the 1400-reservation plan", async () => {
        const scripts = decodedSteps(windowsApplySteps(desiredWindowsScope(bigWindowsScope(1400)), windowsState("empty-server")));
        for (const [index, script] of scripts.entries()) expect(await powershellSyntaxErrors(script), `script ${index + 1}`).toEqual([]);
    });
});
