import { macToClientId } from "../core/node";
import { parseSubnet } from "../core/fields";
import { reservations, ScopeSpec } from "./scopeSpec";

/**
 * Microsoft Windows DHCP Server, driven with the DhcpServer PowerShell module over OpenSSH.
 * Refresh reads the server with READ_SCRIPT (one JSON document); `planWindowsScope` compares it
 * with what the scope should be and `renderApplyScript` turns the difference into cmdlets, so a
 * second run with nothing changed sends nothing. Boot files go to clients through policies
 * (vendor class for BIOS and UEFI PXE, user class for iPXE), never as scope-level 66/67.
 */

/** What READ_SCRIPT returns: the cmdlets' objects reduced to strings and numbers. */
export interface WindowsState {
    scope: { ScopeId: string; Name: string; StartRange: string; EndRange: string; SubnetMask: string; LeaseSeconds: number; State: string } | null;
    /** Option values of the scope (PolicyName null) and of each policy. */
    options: Array<{ OptionId: number; Value: string[]; PolicyName: string | null }>;
    reservations: Array<{ IPAddress: string; ClientId: string; Name: string }>;
    classes: Array<{ Name: string; Type: string; Data: string }>;
    policies: Array<{ Name: string; ProcessingOrder: number; VendorClass: string[]; UserClass: string[] }>;
    optionDefinitions: number[];
}

/** PowerShell single-quoted literal: nothing inside is interpreted. */
export function psQuote(value: string | number): string {
    return `'${String(value).replace(/'/g, "''")}'`;
}

export function readScript(scopeId: string): string {
    return `$ErrorActionPreference = 'Stop'
$id = ${psQuote(scopeId)}
$out = [ordered]@{ scope = $null; options = @(); reservations = @(); classes = @(); policies = @(); optionDefinitions = @() }
$scope = Get-DhcpServerv4Scope -ScopeId $id -ErrorAction SilentlyContinue
if ($scope) {
  $out.scope = [ordered]@{ ScopeId = $scope.ScopeId.IPAddressToString; Name = $scope.Name
    StartRange = $scope.StartRange.IPAddressToString; EndRange = $scope.EndRange.IPAddressToString
    SubnetMask = $scope.SubnetMask.IPAddressToString; LeaseSeconds = [int]$scope.LeaseDuration.TotalSeconds; State = "$($scope.State)" }
  $out.options = @(Get-DhcpServerv4OptionValue -ScopeId $id | ForEach-Object { [ordered]@{ OptionId = [int]$_.OptionId; Value = @($_.Value); PolicyName = $null } })
  $out.policies = @(Get-DhcpServerv4Policy -ScopeId $id | ForEach-Object {
    [ordered]@{ Name = $_.Name; ProcessingOrder = [int]$_.ProcessingOrder; VendorClass = @($_.VendorClass); UserClass = @($_.UserClass) } })
  foreach ($p in $out.policies) {
    $out.options += @(Get-DhcpServerv4OptionValue -ScopeId $id -PolicyName $p.Name | ForEach-Object { [ordered]@{ OptionId = [int]$_.OptionId; Value = @($_.Value); PolicyName = $p.Name } })
  }
  $out.reservations = @(Get-DhcpServerv4Reservation -ScopeId $id | ForEach-Object { [ordered]@{ IPAddress = $_.IPAddress.IPAddressToString; ClientId = $_.ClientId; Name = $_.Name } })
}
$out.classes = @(Get-DhcpServerv4Class | ForEach-Object { [ordered]@{ Name = $_.Name; Type = "$($_.Type)"; Data = $_.Data } })
$out.optionDefinitions = @(Get-DhcpServerv4OptionDefinition | ForEach-Object { [int]$_.OptionId })
$out | ConvertTo-Json -Depth 6 -Compress
`;
}

/** ConvertTo-Json writes a one-element array as the element itself and an empty one as null. */
function list<T>(value: T | T[] | null | undefined): T[] {
    if (value === null || value === undefined) return [];
    return Array.isArray(value) ? value : [value];
}

export function parseWindowsState(json: string): WindowsState {
    const raw = JSON.parse(json);
    return {
        scope: raw.scope ?? null,
        options: list(raw.options).map((o: any) => ({ OptionId: Number(o.OptionId), Value: list(o.Value).map(String), PolicyName: o.PolicyName ?? null })),
        reservations: list(raw.reservations).map((r: any) => ({ IPAddress: r.IPAddress, ClientId: String(r.ClientId).toLowerCase(), Name: r.Name ?? "" })),
        classes: list(raw.classes),
        policies: list(raw.policies).map((p: any) => ({ Name: p.Name, ProcessingOrder: Number(p.ProcessingOrder), VendorClass: list(p.VendorClass), UserClass: list(p.UserClass) })),
        optionDefinitions: list(raw.optionDefinitions).map(Number),
    };
}

/** Our vendor and user classes, server-wide. */
export const CLASSES = [
    { Name: "netboot PXE BIOS", Type: "Vendor", Data: "PXEClient:Arch:00000" },
    { Name: "netboot PXE UEFI x64", Type: "Vendor", Data: "PXEClient:Arch:00007" },
    { Name: "netboot iPXE", Type: "User", Data: "iPXE" },
];

interface DesiredPolicy {
    Name: string;
    ProcessingOrder: number;
    condition: string;
    bootFile: string;
}

/**
 * Windows appends a NUL to string options (17, 67). LTSP admins wrote the root path with a
 * trailing slash, so the NUL lands in a path component of its own, which the server resolves
 * through a link named 000 (`ln -s /ltsp/i386 /ltsp/i386/000`, LtspServer's nulSuffixLinks).
 */
export function windowsRootPath(rootPath: string): string {
    return rootPath.endsWith("/") ? rootPath : rootPath + "/";
}

export interface WindowsDesired {
    scopeId: string;
    scope: NonNullable<WindowsState["scope"]>;
    options: Map<number, string[]>;
    policies: DesiredPolicy[];
    reservations: Array<{ IPAddress: string; ClientId: string; Name: string }>;
    nextServer: string;
    wantOption60: boolean;
}

export function desiredWindowsScope(spec: ScopeSpec): WindowsDesired {
    const subnet = parseSubnet(spec.subnet)!;
    const options = new Map<number, string[]>();
    if (spec.router) options.set(3, [spec.router]);
    if (spec.dnsServers.length) options.set(6, spec.dnsServers);
    if (spec.domain) options.set(15, [spec.domain]);
    if (spec.boot.rootPath) options.set(17, [windowsRootPath(spec.boot.rootPath)]);
    const wantOption60 = spec.windows?.pxeServerOnDhcpHost ?? false;
    if (wantOption60) options.set(60, ["PXEClient"]);
    return {
        scopeId: subnet.network,
        scope: {
            ScopeId: subnet.network,
            Name: spec.name,
            StartRange: spec.rangeStart!,
            EndRange: spec.rangeEnd!,
            SubnetMask: subnet.netmask,
            LeaseSeconds: spec.leaseSeconds,
            State: "Active",
        },
        options,
        // iPXE first: an iPXE client also sends a PXEClient vendor class.
        policies: [
            { Name: "netboot-ipxe", ProcessingOrder: 1, condition: `-UserClass EQ,${psQuote("netboot iPXE")}`, bootFile: spec.boot.ipxeScript },
            { Name: "netboot-uefi", ProcessingOrder: 2, condition: `-VendorClass EQ,${psQuote("netboot PXE UEFI x64*")}`, bootFile: spec.boot.uefiBootFile },
            { Name: "netboot-bios", ProcessingOrder: 3, condition: `-VendorClass EQ,${psQuote("netboot PXE BIOS*")}`, bootFile: spec.boot.biosBootFile },
        ],
        reservations: reservations(spec).map((r) => ({ IPAddress: r.ip, ClientId: macToClientId(r.mac), Name: r.hostname })),
        nextServer: spec.boot.nextServer,
        wantOption60,
    };
}

const sameValues = (a: readonly string[] | undefined, b: readonly string[] | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/** The cmdlets that take the server from `state` to `desired`; none when it already matches. */
export function planWindowsScope(desired: WindowsDesired, state: WindowsState): string[] {
    const id = psQuote(desired.scopeId);
    const cmds: string[] = [];
    const want = desired.scope;
    const lease = `(New-TimeSpan -Seconds ${want.LeaseSeconds})`;
    if (!state.scope) {
        cmds.push(
            `Add-DhcpServerv4Scope -Name ${psQuote(want.Name)} -StartRange ${psQuote(want.StartRange)} -EndRange ${psQuote(want.EndRange)} ` +
                `-SubnetMask ${psQuote(want.SubnetMask)} -LeaseDuration ${lease} -State Active`,
        );
    } else if (
        state.scope.Name !== want.Name ||
        state.scope.StartRange !== want.StartRange ||
        state.scope.EndRange !== want.EndRange ||
        state.scope.LeaseSeconds !== want.LeaseSeconds ||
        state.scope.State !== "Active"
    ) {
        cmds.push(
            `Set-DhcpServerv4Scope -ScopeId ${id} -Name ${psQuote(want.Name)} -StartRange ${psQuote(want.StartRange)} ` +
                `-EndRange ${psQuote(want.EndRange)} -LeaseDuration ${lease} -State Active`,
        );
    }
    if (desired.wantOption60 && !state.optionDefinitions.includes(60)) {
        cmds.push(`Add-DhcpServerv4OptionDefinition -OptionId 60 -Name 'PXEClient' -Type String`);
    }

    // Scope-level options: ours set, 66/67 and anything we no longer want removed.
    const scopeOptions = new Map(state.options.filter((o) => o.PolicyName === null).map((o) => [o.OptionId, o.Value]));
    for (const [optionId, value] of desired.options) {
        if (!sameValues(scopeOptions.get(optionId), value)) {
            cmds.push(`Set-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${optionId} -Value ${value.map(psQuote).join(",")}`);
        }
    }
    const stale = [17, 60, 66, 67, 3, 6, 15].filter((o) => scopeOptions.has(o) && !desired.options.has(o));
    if (stale.length) cmds.push(`Remove-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${stale.join(",")}`);

    for (const cls of CLASSES) {
        const have = state.classes.find((c) => c.Name === cls.Name);
        if (!have) cmds.push(`Add-DhcpServerv4Class -Name ${psQuote(cls.Name)} -Type ${cls.Type} -Data ${psQuote(cls.Data)}`);
        else if (have.Data !== cls.Data) cmds.push(`Set-DhcpServerv4Class -Name ${psQuote(cls.Name)} -Data ${psQuote(cls.Data)}`);
    }

    for (const policy of desired.policies) {
        const have = state.policies.find((p) => p.Name === policy.Name);
        if (!have) {
            cmds.push(`Add-DhcpServerv4Policy -Name ${psQuote(policy.Name)} -ScopeId ${id} -ProcessingOrder ${policy.ProcessingOrder} -Condition OR ${policy.condition}`);
        } else if (have.ProcessingOrder !== policy.ProcessingOrder) {
            cmds.push(`Set-DhcpServerv4Policy -Name ${psQuote(policy.Name)} -ScopeId ${id} -ProcessingOrder ${policy.ProcessingOrder}`);
        }
        const policyOptions = new Map(state.options.filter((o) => o.PolicyName === policy.Name).map((o) => [o.OptionId, o.Value]));
        // Option 66 as an address: Windows clients do not resolve a name there.
        const wanted: Array<[number, string]> = [
            [66, desired.nextServer],
            [67, policy.bootFile],
        ];
        for (const [optionId, value] of wanted) {
            if (!sameValues(policyOptions.get(optionId), [value])) {
                cmds.push(`Set-DhcpServerv4OptionValue -ScopeId ${id} -PolicyName ${psQuote(policy.Name)} -OptionId ${optionId} -Value ${psQuote(value)}`);
            }
        }
    }

    const wantByClient = new Map(desired.reservations.map((r) => [r.ClientId, r]));
    for (const have of state.reservations) {
        const want = wantByClient.get(have.ClientId);
        if (!want || want.IPAddress !== have.IPAddress) {
            cmds.push(`Remove-DhcpServerv4Reservation -ScopeId ${id} -ClientId ${psQuote(have.ClientId)}`);
        } else if (want.Name !== have.Name) {
            cmds.push(`Set-DhcpServerv4Reservation -IPAddress ${psQuote(have.IPAddress)} -Name ${psQuote(want.Name)}`);
        }
    }
    const haveByClient = new Map(state.reservations.map((r) => [r.ClientId, r]));
    for (const want of desired.reservations) {
        const have = haveByClient.get(want.ClientId);
        if (!have || have.IPAddress !== want.IPAddress) {
            cmds.push(`Add-DhcpServerv4Reservation -ScopeId ${id} -IPAddress ${psQuote(want.IPAddress)} -ClientId ${psQuote(want.ClientId)} -Name ${psQuote(want.Name)}`);
        }
    }
    return cmds;
}

/** Delete: the scope with its options, policies and reservations; then our classes. */
export function removalScript(scopeId: string): string {
    const classes = CLASSES.map((c) => `Remove-DhcpServerv4Class -Name ${psQuote(c.Name)} -Type ${c.Type} -ErrorAction SilentlyContinue`);
    return renderScript([`Remove-DhcpServerv4Scope -ScopeId ${psQuote(scopeId)} -Force -ErrorAction SilentlyContinue`, ...classes]);
}

export function renderScript(commands: readonly string[]): string {
    return ["$ErrorActionPreference = 'Stop'", ...commands, ""].join("\n");
}

/**
 * The command line OpenSSH on Windows runs: the script as -EncodedCommand (base64 of UTF-16LE),
 * so no quoting of the remote shell (cmd.exe by default) can touch it.
 */
export function encodedCommand(script: string): string {
    return `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${Buffer.from(script, "utf16le").toString("base64")}`;
}
