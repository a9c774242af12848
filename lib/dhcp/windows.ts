import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSubnet } from "../core/fields";
import { macToClientId } from "../core/node";
import { reservations, type ScopeSpec } from "./scopeSpec";
import { COMMAND_LINE_BUDGET, encodedCommand, packScripts, SCRIPT_PREAMBLE, type ScriptStatement } from "./windows/commandLine";

export { CMD_EXE_COMMAND_LINE_LIMIT, COMMAND_LINE_BUDGET, decodeCommandLine, encodedCommand } from "./windows/commandLine";

/**
 * Microsoft Windows DHCP Server, driven with the DhcpServer PowerShell module over OpenSSH.
 * Refresh reads the server with the read script (one JSON document); `planWindowsActions` compares
 * it with what the scope should be, field by field, and `windowsApplySteps` turns the difference
 * into scripts that each fit one cmd.exe command line, so a second run with nothing changed sends
 * nothing. Boot files go to clients through policies (vendor class for BIOS and UEFI PXE, user
 * class for iPXE), never as scope-level 66/67.
 *
 * Cmdlet syntax throughout is the DhcpServer module's documented syntax (learn.microsoft.com,
 * powershell/module/dhcpserver; the same text is in MicrosoftDocs/windows-powershell-docs,
 * docset/winserver2025-ps/DhcpServer/*.md).
 */

/** What the read script returns: the cmdlets' objects reduced to strings, numbers and booleans. */
export interface WindowsState {
    scope: WindowsScope | null;
    /** Option values of the scope (PolicyName null) and of each of its policies. */
    options: Array<{ OptionId: number; Value: string[]; PolicyName: string | null }>;
    reservations: Array<{ IPAddress: string; ClientId: string; Name: string }>;
    /** Server-wide vendor and user classes; Data is the class data as ASCII text. */
    classes: Array<{ Name: string; Type: string; Data: string }>;
    policies: WindowsPolicy[];
    optionDefinitions: number[];
    /** Active leases in the scope (Get-DhcpServerv4Lease -ScopeId): what removing the scope would drop. */
    leaseCount: number;
    /**
     * Policies of the server (ScopeId empty) and of the other scopes, with the values of their vendor and
     * user class criteria (comparator, then class names, a trailing * matching the class data as a prefix).
     */
    classUsers: Array<{ ScopeId: string; Name: string; Classes: string[] }>;
}

export interface WindowsScope {
    ScopeId: string;
    Name: string;
    StartRange: string;
    EndRange: string;
    SubnetMask: string;
    LeaseSeconds: number;
    State: string;
    /** Policies are evaluated in the scope only while this is true (Set-DhcpServerv4Scope -ActivatePolicies). */
    ActivatePolicies: boolean;
    /** The scope's description: on a scope this resource added, its mark (WindowsDesired.mark). */
    Description?: string;
}

/** The criteria a policy can have (Add-DhcpServerv4Policy): each is a comparator (EQ, NE) followed by values. */
export const POLICY_CRITERIA = [
    "VendorClass",
    "UserClass",
    "MacAddress",
    "ClientId",
    "RelayAgent",
    "CircuitId",
    "RemoteId",
    "SubscriberId",
    "Fqdn",
] as const;
export type PolicyCriterion = (typeof POLICY_CRITERIA)[number];

export type WindowsPolicy = { Name: string; ProcessingOrder: number; Enabled: boolean; Condition: string } & Record<PolicyCriterion, string[]>;

/** PowerShell single-quoted literal: nothing inside is interpreted. */
export function psQuote(value: string | number): string {
    return `'${String(value).replace(/'/g, "''")}'`;
}

const READ_SCRIPT_FILE = join(__dirname, "windows", "read.ps1");

/**
 * The read script (lib/dhcp/windows/read.ps1) for one scope, as sent: its comment lines and
 * indentation are for the reader of the file and stay home (it has no here-strings they could be part of).
 */
export function readScript(scopeId: string): string {
    const body = readFileSync(READ_SCRIPT_FILE, "utf8")
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .map((line) => line.trimStart());
    return [`$id = ${psQuote(scopeId)}`, ...body].join("\n");
}

/** The read as a command line (not mutating); it fits one cmd.exe command line like every step. */
export function windowsReadCommandLine(scopeId: string): string {
    const commandLine = encodedCommand(readScript(scopeId));
    if (commandLine.length > COMMAND_LINE_BUDGET)
        throw new Error(`the read script's command line is ${commandLine.length} characters, over ${COMMAND_LINE_BUDGET}`);
    return commandLine;
}

/** ConvertTo-Json writes a one-element array as the element itself and an empty one as null. */
function list<T>(value: T | T[] | null | undefined): T[] {
    if (value === null || value === undefined) return [];
    return Array.isArray(value) ? value : [value];
}

function required<T>(object: Record<string, unknown>, key: string, what: string): T {
    if (object[key] === undefined) throw new Error(`the Windows DHCP read script's ${what} has no ${key} (an older read script?)`);
    return object[key] as T;
}

export function parseWindowsState(json: string): WindowsState {
    const raw = JSON.parse(json);
    const scope = raw.scope
        ? {
              ScopeId: String(required(raw.scope, "ScopeId", "scope")),
              Name: String(required(raw.scope, "Name", "scope")),
              StartRange: String(required(raw.scope, "StartRange", "scope")),
              EndRange: String(required(raw.scope, "EndRange", "scope")),
              SubnetMask: String(required(raw.scope, "SubnetMask", "scope")),
              LeaseSeconds: Number(required(raw.scope, "LeaseSeconds", "scope")),
              State: String(required(raw.scope, "State", "scope")),
              ActivatePolicies: required(raw.scope, "ActivatePolicies", "scope") === true,
              Description: String(raw.scope.Description ?? ""),
          }
        : null;
    return {
        scope,
        options: list(raw.options).map((o: any) => ({
            OptionId: Number(o.OptionId),
            Value: list(o.Value).map(String),
            PolicyName: o.PolicyName ?? null,
        })),
        reservations: list(raw.reservations).map((r: any) => ({
            IPAddress: r.IPAddress,
            ClientId: String(r.ClientId).toLowerCase(),
            Name: r.Name ?? "",
        })),
        classes: list(raw.classes).map((c: any) => ({ Name: c.Name, Type: String(c.Type), Data: String(c.AsciiData ?? c.Data ?? "") })),
        policies: list(raw.policies).map((p: any) => ({
            Name: p.Name,
            ProcessingOrder: Number(required(p, "ProcessingOrder", `policy ${p.Name}`)),
            Enabled: required(p, "Enabled", `policy ${p.Name}`) === true,
            Condition: String(required(p, "Condition", `policy ${p.Name}`)),
            ...(Object.fromEntries(POLICY_CRITERIA.map((c) => [c, list(p[c]).map(String)])) as Record<PolicyCriterion, string[]>),
        })),
        optionDefinitions: list(raw.optionDefinitions).map(Number),
        leaseCount: scope ? Number(required(raw, "leaseCount", "output")) : 0,
        classUsers: list(raw.classUsers).map((u: any) => ({
            ScopeId: String(u.ScopeId ?? ""),
            Name: String(u.Name),
            Classes: list(u.Classes).map(String),
        })),
    };
}

/** Our vendor and user classes, server-wide. */
export const CLASSES = [
    { Name: "netboot PXE BIOS", Type: "Vendor", Data: "PXEClient:Arch:00000" },
    { Name: "netboot PXE UEFI x64", Type: "Vendor", Data: "PXEClient:Arch:00007" },
    { Name: "netboot iPXE", Type: "User", Data: "iPXE" },
];

export interface DesiredPolicy {
    Name: string;
    ProcessingOrder: number;
    /** The one criterion our policy has, and its comparator and values, e.g. ["EQ", "netboot PXE BIOS*"]. */
    criterion: "VendorClass" | "UserClass";
    values: string[];
    bootFile: string;
}

/**
 * Windows appends a NUL to string options (17, 67). LTSP admins wrote the root path with a
 * trailing slash, so the NUL lands in a path component of its own, which the server resolves
 * through a link named 000 (`ln -s /ltsp/i386 /ltsp/i386/000`, LtspServer's nulSuffixLinks).
 */
export function windowsRootPath(rootPath: string): string {
    return rootPath.endsWith("/") ? rootPath : `${rootPath}/`;
}

export interface WindowsDesired {
    scopeId: string;
    /** The subnet as network/prefix, and the server (connection.host): for the refusals' messages. */
    subnet: string;
    server: string;
    /** windows.adopt and windows.allowReplace (see scopeSpec). */
    adopt: boolean;
    allowReplace: boolean;
    scope: WindowsScope;
    options: Map<number, string[]>;
    policies: DesiredPolicy[];
    reservations: Array<{ IPAddress: string; ClientId: string; Name: string }>;
    nextServer: string;
    wantOption60: boolean;
    /**
     * The description Add-DhcpServerv4Scope gives the scope ("netboot: " and the resource's managedBy):
     * how a create whose outputs were lost (Pulumi keeps none of a create that fails) knows the scope as its own.
     */
    mark?: string;
}

export function desiredWindowsScope(spec: ScopeSpec, managedBy?: string): WindowsDesired {
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
        subnet: `${subnet.network}/${subnet.prefix}`,
        server: spec.connection.host,
        adopt: spec.windows?.adopt ?? false,
        allowReplace: spec.windows?.allowReplace ?? false,
        scope: {
            ScopeId: subnet.network,
            Name: spec.name,
            StartRange: spec.rangeStart!,
            EndRange: spec.rangeEnd!,
            SubnetMask: subnet.netmask,
            LeaseSeconds: spec.leaseSeconds,
            State: "Active",
            ActivatePolicies: true,
        },
        options,
        // iPXE first: an iPXE client also sends a PXEClient vendor class. A trailing * matches the
        // class data as a prefix (Add-DhcpServerv4Policy -VendorClass): PXE clients send
        // "PXEClient:Arch:00000:UNDI:002001".
        policies: [
            { Name: "netboot-ipxe", ProcessingOrder: 1, criterion: "UserClass", values: ["EQ", "netboot iPXE"], bootFile: spec.boot.ipxeScript },
            {
                Name: "netboot-uefi",
                ProcessingOrder: 2,
                criterion: "VendorClass",
                values: ["EQ", "netboot PXE UEFI x64*"],
                bootFile: spec.boot.uefiBootFile,
            },
            {
                Name: "netboot-bios",
                ProcessingOrder: 3,
                criterion: "VendorClass",
                values: ["EQ", "netboot PXE BIOS*"],
                bootFile: spec.boot.biosBootFile,
            },
        ],
        reservations: reservations(spec).map((r) => ({ IPAddress: r.ip, ClientId: macToClientId(r.mac), Name: r.hostname })),
        nextServer: spec.boot.nextServer,
        wantOption60,
        mark: managedBy === undefined ? undefined : `netboot: ${managedBy}`,
    };
}

/**
 * Which changes of a windows scope's inputs replace it: a Windows scope is identified by its scope
 * ID, so another network is another scope. `subnet` is compared as its network: 10.20.0.0/24 and
 * 10.20.0.7/24 are the same scope. A new prefix on the same network is an update, not a
 * replacement: the plan removes and adds the scope again only where that is safe (see planWindows),
 * where a replacement would delete it unconditionally first.
 */
export function windowsReplaceKeys(
    olds: { subnet?: string; windows?: { scopeId?: string } },
    news: { subnet?: string; windows?: { scopeId?: string } },
): string[] {
    const network = (cidr: string | undefined) => (cidr === undefined ? undefined : (parseSubnet(cidr)?.network ?? cidr));
    const keys: string[] = [];
    if (network(olds.subnet) !== network(news.subnet)) keys.push("subnet");
    if (olds.windows?.scopeId !== news.windows?.scopeId) keys.push("windows.scopeId");
    return keys;
}

/**
 * One step of the plan: a documented DhcpServer cmdlet, and the condition (checked on the server
 * when the script runs) under which it is still needed, so that running a script twice does what
 * running it once did. Set-* cmdlets set the same value again and need none.
 */
export interface WindowsAction {
    cmdlet: string;
    onlyIf?: string;
    /** The condition reads $reserved (ClientId → IPAddress of the scope's reservations), read once per script. */
    readsReservations?: boolean;
}

/** The scope's reservations as the script starts to change them (Get-DhcpServerv4Reservation -ScopeId). */
function reservedSnapshot(scopeId: string): string {
    return `$reserved = @{}; Get-DhcpServerv4Reservation -ScopeId ${psQuote(scopeId)} | ForEach-Object { $reserved[$_.ClientId] = $_.IPAddress.IPAddressToString }`;
}

/** Lease duration as Set-DhcpServerv4Scope's documented `day.hrs:mins:secs` (its example: 4.00:00:00). */
export function leaseDuration(seconds: number): string {
    const two = (n: number) => String(n).padStart(2, "0");
    return `${Math.floor(seconds / 86400)}.${two(Math.floor((seconds % 86400) / 3600))}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
}

/** The comparator and values of a policy criterion, as Add-DhcpServerv4Policy's example 9 writes them: "EQ","Android". */
function criterionValues(values: readonly string[]): string {
    return values.map(psQuote).join(",");
}

const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
const sameText = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Options each of our policies carries: 66 (the boot server, as an address) and 67 (the boot file). */
const POLICY_OPTIONS = [66, 67];

/**
 * What this resource created on the server, kept in its outputs. Removals (on update and on delete)
 * are computed from this record only: what an administrator made, or what was there when the
 * scope was adopted, is never this resource's to remove.
 */
export interface WindowsOwned {
    /** "created": this resource added the scope; "adopted": the scope was there (windows.adopt). */
    scope: "created" | "adopted";
    /** Scope-level option IDs this resource set where the scope had no value. */
    scopeOptions: number[];
    /** Policies of the scope this resource added. */
    policies: string[];
    /** Client IDs (lower case) of the reservations this resource added. */
    reservations: string[];
    /** Server-wide classes this resource added. */
    classes: string[];
    /** Option definitions this resource added (server-wide; delete leaves them, other scopes' values may use them). */
    optionDefinitions: number[];
    /**
     * What the config overwrote that this resource did not set, as it was: the settings of an adopted
     * scope, and scope option values (option ID → value). Put back on delete, and an option's value
     * when the config no longer names it.
     */
    originals?: { scope?: Partial<ScopeSettings>; options?: Record<string, string[]> };
}

/** What Set-DhcpServerv4Scope sets of a scope (not its mask, fixed when it is added). */
type ScopeSettings = Pick<WindowsScope, "Name" | "StartRange" | "EndRange" | "LeaseSeconds" | "State" | "ActivatePolicies">;
const SCOPE_SETTINGS = ["Name", "StartRange", "EndRange", "LeaseSeconds", "State", "ActivatePolicies"] as const;

/** Set-DhcpServerv4Scope's parameters that take a scope from `have` to the settings `want` gives. */
function scopeChanges(have: ScopeSettings, want: Partial<ScopeSettings>): string[] {
    const changes: string[] = [];
    if (want.Name !== undefined && have.Name !== want.Name) changes.push(`-Name ${psQuote(want.Name)}`);
    // -StartRange and -EndRange only go together (Set-DhcpServerv4Scope's WithRange parameter set).
    if (want.StartRange !== undefined && want.EndRange !== undefined && (have.StartRange !== want.StartRange || have.EndRange !== want.EndRange)) {
        changes.push(`-StartRange ${psQuote(want.StartRange)} -EndRange ${psQuote(want.EndRange)}`);
    }
    if (want.LeaseSeconds !== undefined && have.LeaseSeconds !== want.LeaseSeconds)
        changes.push(`-LeaseDuration ${psQuote(leaseDuration(want.LeaseSeconds))}`);
    if (want.State !== undefined && have.State !== want.State) changes.push(`-State ${want.State}`);
    if (want.ActivatePolicies !== undefined && have.ActivatePolicies !== want.ActivatePolicies) {
        changes.push(`-ActivatePolicies ${want.ActivatePolicies ? "$true" : "$false"}`);
    }
    return changes;
}

/** The cmdlets to send, and the record of what the resource owns once they have run. */
export interface WindowsPlan {
    actions: WindowsAction[];
    owned: WindowsOwned;
}

/** What a scope holds that `owned` does not list: reservations and policies an administrator made. */
function foreignEntries(state: WindowsState, owned: WindowsOwned | undefined): string[] {
    const reservations = state.reservations
        .filter((r) => !owned?.reservations.includes(r.ClientId.toLowerCase()))
        .map((r) => `reservation ${r.IPAddress} ${psQuote(r.Name)}`);
    const policies = state.policies.filter((p) => !owned?.policies.includes(p.Name)).map((p) => `policy ${psQuote(p.Name)}`);
    return [...reservations, ...policies];
}

const sortedUnique = <T extends string | number>(values: Iterable<T>): T[] =>
    [...new Set(values)].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))));

/**
 * The cmdlets that take the server from `current` to `desired`; none when it already matches.
 * `owned` is the record of the last apply (undefined before the first). Throws, before any cmdlet
 * is sent, when the change would take over or remove what this resource did not create.
 */
export function planWindows(desired: WindowsDesired, current: WindowsState, owned?: WindowsOwned): WindowsPlan {
    const id = psQuote(desired.scopeId);
    const where = `DHCP scope ${desired.scopeId} on ${desired.server}`;
    const actions: WindowsAction[] = [];
    const want = desired.scope;
    let state = current;
    // A scope carrying this resource's mark and no record: added by a create that failed later on.
    const marked = !owned && desired.mark !== undefined && state.scope?.Description === desired.mark;
    const created = owned?.scope === "created" || marked;

    // A scope someone else made (another tool, an administrator, the compute site's own) is theirs
    // until the config says otherwise: taking it over would rewrite its options and reservations.
    if (state.scope && !created && !desired.adopt) {
        throw new Error(
            `windows.adopt: false: ${where} (${psQuote(state.scope.Name)}) exists and this resource did not create it; nothing was changed. ` +
                "Set windows.adopt: true to manage it (what it did not create is kept)",
        );
    }
    const fresh = (scope: WindowsOwned["scope"]): WindowsOwned => ({
        scope,
        scopeOptions: [],
        policies: [],
        reservations: [],
        classes: [...(owned?.classes ?? [])],
        optionDefinitions: [...(owned?.optionDefinitions ?? [])],
    });
    let record: WindowsOwned = !state.scope ? fresh("created") : owned ? structuredClone(owned) : fresh(marked ? "created" : "adopted");
    if (marked) {
        // What that create made of what it wanted: the scope is this resource's, and so are the entries it wanted.
        const wantedClients = new Set(desired.reservations.map((r) => r.ClientId.toLowerCase()));
        record.reservations = state.reservations.map((r) => r.ClientId.toLowerCase()).filter((c) => wantedClients.has(c));
        record.policies = state.policies.map((p) => p.Name).filter((name) => desired.policies.some((p) => p.Name === name));
        record.scopeOptions = state.options.filter((o) => o.PolicyName === null && desired.options.has(o.OptionId)).map((o) => o.OptionId);
    }

    if (state.scope && state.scope.SubnetMask !== want.SubnetMask) {
        // The mask is fixed when a scope is added: the scope would go (with its leases, options,
        // policies and reservations) and be added again. Only a scope this resource created, holding
        // nothing it did not create, and with no leases unless windows.allowReplace says so.
        const field = `subnet: ${desired.subnet}`;
        const have = `${where} has mask ${state.scope.SubnetMask} (Windows fixes a scope's mask when it is added)`;
        if (!created) throw new Error(`${field}: ${have} and this resource did not create it, so does not remove it; nothing was changed`);
        const foreign = foreignEntries(state, record);
        if (foreign.length) {
            throw new Error(`${field}: ${have} and holds what this resource did not create (${foreign.join(", ")}); nothing was changed`);
        }
        if (state.leaseCount > 0 && !desired.allowReplace) {
            throw new Error(
                `${field}: ${have}; removing it drops its ${state.leaseCount} active lease(s): set windows.allowReplace: true to allow it; nothing was changed`,
            );
        }
        // The condition is the drift itself, so a second run of this script does not remove the scope it has just made right.
        actions.push({
            cmdlet: `Remove-DhcpServerv4Scope -ScopeId ${id} -Force`,
            onlyIf: `(Get-DhcpServerv4Scope -ScopeId ${id} -ErrorAction SilentlyContinue).SubnetMask.IPAddressToString -notin @($null, ${psQuote(want.SubnetMask)})`,
        });
        state = { ...state, scope: null, options: [], policies: [], reservations: [], leaseCount: 0 };
        record = fresh("created");
    }

    if (!state.scope) {
        actions.push({
            cmdlet:
                `Add-DhcpServerv4Scope -Name ${psQuote(want.Name)} -StartRange ${psQuote(want.StartRange)} -EndRange ${psQuote(want.EndRange)} ` +
                `-SubnetMask ${psQuote(want.SubnetMask)} -LeaseDuration ${psQuote(leaseDuration(want.LeaseSeconds))} -State Active -ActivatePolicies $true` +
                (desired.mark === undefined ? "" : ` -Description ${psQuote(desired.mark)}`),
            onlyIf: `-not (Get-DhcpServerv4Scope -ScopeId ${id} -ErrorAction SilentlyContinue)`,
        });
    } else {
        const have = state.scope;
        const changes = scopeChanges(have, want);
        if (changes.length) actions.push({ cmdlet: `Set-DhcpServerv4Scope -ScopeId ${id} ${changes.join(" ")}` });
        if (record.scope === "adopted") {
            // The adopted scope's own settings, as they were before the config first changed them.
            record.originals ??= {};
            record.originals.scope ??= {};
            const scope = record.originals.scope;
            for (const key of SCOPE_SETTINGS) {
                if (have[key] !== want[key] && scope[key] === undefined) Object.assign(scope, { [key]: have[key] });
            }
            // The range goes back whole (WithRange: both or neither).
            if (scope.StartRange !== undefined || scope.EndRange !== undefined) {
                scope.StartRange ??= have.StartRange;
                scope.EndRange ??= have.EndRange;
            }
        }
    }

    // Option 60 has no definition on a fresh server, and Set-DhcpServerv4OptionValue fails without one.
    if (desired.wantOption60 && !state.optionDefinitions.includes(60)) {
        actions.push({
            cmdlet: `Add-DhcpServerv4OptionDefinition -OptionId 60 -Name 'PXEClient' -Type String`,
            onlyIf: `-not (Get-DhcpServerv4OptionDefinition -OptionId 60 -ErrorAction SilentlyContinue)`,
        });
        record.optionDefinitions.push(60);
    }

    // Scope-level options: ours set; those this resource set and no longer wants removed. One it
    // did not set (the site's DNS servers, say) stays unless the config names it.
    const scopeOptions = new Map(state.options.filter((o) => o.PolicyName === null).map((o) => [o.OptionId, o.Value]));
    for (const [optionId, value] of desired.options) {
        if (!same(scopeOptions.get(optionId), value)) {
            actions.push({ cmdlet: `Set-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${optionId} -Value ${value.map(psQuote).join(",")}` });
            // A value this resource did not set is someone's: kept as it was, to be put back.
            if (scopeOptions.has(optionId) && !record.scopeOptions.includes(optionId)) {
                record.originals ??= {};
                record.originals.options ??= {};
                record.originals.options[optionId] ??= scopeOptions.get(optionId)!;
            }
        }
        if (!scopeOptions.has(optionId)) record.scopeOptions.push(optionId);
    }
    for (const optionId of sortedUnique(record.scopeOptions.filter((o) => scopeOptions.has(o) && !desired.options.has(o)))) {
        actions.push({
            cmdlet: `Remove-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${optionId}`,
            onlyIf: `Get-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${optionId} -ErrorAction SilentlyContinue`,
        });
    }
    record.scopeOptions = record.scopeOptions.filter((o) => desired.options.has(o));
    // An option the config no longer names gets back the value it had before the config named it.
    for (const [key, value] of Object.entries(record.originals?.options ?? {})) {
        const optionId = Number(key);
        if (desired.options.has(optionId)) continue;
        if (scopeOptions.has(optionId) && !same(scopeOptions.get(optionId), value)) {
            actions.push({ cmdlet: `Set-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${optionId} -Value ${value.map(psQuote).join(",")}` });
        }
        delete record.originals!.options![key];
    }

    for (const cls of CLASSES) {
        const name = psQuote(cls.Name);
        const add: WindowsAction = {
            cmdlet: `Add-DhcpServerv4Class -Name ${name} -Type ${cls.Type} -Data ${psQuote(cls.Data)}`,
            onlyIf: `-not (Get-DhcpServerv4Class -Name ${name} -ErrorAction SilentlyContinue)`,
        };
        const have = state.classes.find((c) => c.Name === cls.Name);
        if (!have) {
            actions.push(add);
            record.classes.push(cls.Name);
        } else if (!sameText(have.Type, cls.Type)) {
            // A class's type is part of its identity (Set-DhcpServerv4Class selects by -Name and -Type);
            // another type means removing it, and a class is server-wide: other scopes' policies may use it.
            if (!record.classes.includes(cls.Name)) {
                throw new Error(
                    `class ${name} on ${desired.server} is a ${have.Type} class this resource did not create (it needs a ${cls.Type} class of that name); nothing was changed`,
                );
            }
            actions.push({
                cmdlet: `Remove-DhcpServerv4Class -Name ${name} -Type ${have.Type}`,
                onlyIf: `Get-DhcpServerv4Class -Name ${name} -Type ${have.Type} -ErrorAction SilentlyContinue`,
            });
            actions.push(add);
        } else if (have.Data !== cls.Data) {
            // Another class data changes which clients every policy naming the class matches, on every scope.
            if (!record.classes.includes(cls.Name)) {
                throw new Error(
                    `class ${name} on ${desired.server} has data ${psQuote(have.Data)}, not ${psQuote(cls.Data)}, and this resource did not create it; nothing was changed`,
                );
            }
            actions.push({ cmdlet: `Set-DhcpServerv4Class -Name ${name} -Type ${cls.Type} -Data ${psQuote(cls.Data)}` });
        }
    }

    for (const policy of desired.policies) {
        actions.push(...planPolicy(id, desired, state, policy, record));
    }

    actions.push(...planReservations(desired, state, record));
    record = {
        scope: record.scope,
        scopeOptions: sortedUnique(record.scopeOptions),
        policies: sortedUnique(record.policies),
        reservations: sortedUnique(record.reservations),
        classes: sortedUnique(record.classes),
        optionDefinitions: sortedUnique(record.optionDefinitions),
        ...withOriginals(record.originals),
    };
    return { actions, owned: record };
}

/** The originals, if any are left (the record keeps its shape when there are none). */
function withOriginals(originals: WindowsOwned["originals"]): Pick<WindowsOwned, "originals"> {
    const scope = originals?.scope && Object.keys(originals.scope).length ? originals.scope : undefined;
    const options = originals?.options && Object.keys(originals.options).length ? originals.options : undefined;
    return scope || options ? { originals: { ...(scope ? { scope } : {}), ...(options ? { options } : {}) } } : {};
}

/** planWindows' cmdlets. */
export function planWindowsActions(desired: WindowsDesired, current: WindowsState, owned?: WindowsOwned): WindowsAction[] {
    return planWindows(desired, current, owned).actions;
}

function planPolicy(id: string, desired: WindowsDesired, state: WindowsState, policy: DesiredPolicy, record: WindowsOwned): WindowsAction[] {
    const actions: WindowsAction[] = [];
    const name = psQuote(policy.Name);
    let have = state.policies.find((p) => p.Name === policy.Name);
    const ours = record.policies.includes(policy.Name);
    const foreign = POLICY_CRITERIA.filter((c) => c !== policy.criterion);
    const stray = have ? foreign.filter((c) => have![c].length > 0) : [];
    if (have && stray.length) {
        // Set-DhcpServerv4Policy replaces the criteria it is given and keeps the others: a criterion
        // we do not want cannot be cleared, so the policy (and its options) goes and comes back;
        // not a policy someone else made, whose criteria are theirs.
        if (!ours) {
            throw new Error(
                `policy ${name} in DHCP scope ${desired.scopeId} on ${desired.server} was not created by this resource and has criteria it cannot clear (${stray.join(", ")}); nothing was changed`,
            );
        }
        const condition = foreign.map((c) => `$_.${c}`).join(" -or ");
        actions.push({
            cmdlet: `Remove-DhcpServerv4Policy -Name ${name} -ScopeId ${id}`,
            onlyIf: `Get-DhcpServerv4Policy -Name ${name} -ScopeId ${id} -ErrorAction SilentlyContinue | Where-Object { ${condition} }`,
        });
        have = undefined;
    }
    const condition = `-${policy.criterion} ${criterionValues(policy.values)}`;
    if (!have) {
        actions.push({
            cmdlet: `Add-DhcpServerv4Policy -Name ${name} -ScopeId ${id} -ProcessingOrder ${policy.ProcessingOrder} -Condition OR ${condition}`,
            onlyIf: `-not (Get-DhcpServerv4Policy -Name ${name} -ScopeId ${id} -ErrorAction SilentlyContinue)`,
        });
        record.policies.push(policy.Name);
    } else {
        const changes: string[] = [];
        if (have.ProcessingOrder !== policy.ProcessingOrder) changes.push(`-ProcessingOrder ${policy.ProcessingOrder}`);
        if (!sameText(have.Condition, "OR")) changes.push("-Condition OR");
        if (!same(have[policy.criterion], policy.values)) changes.push(condition);
        if (!have.Enabled) changes.push("-Enabled $true");
        if (changes.length) actions.push({ cmdlet: `Set-DhcpServerv4Policy -Name ${name} -ScopeId ${id} ${changes.join(" ")}` });
    }

    // A policy made now has no options yet; one kept has those the read found.
    const policyOptions = new Map(have ? state.options.filter((o) => o.PolicyName === policy.Name).map((o) => [o.OptionId, o.Value]) : []);
    // Option 66 as an address: Windows clients do not resolve a name there.
    const wanted = new Map<number, string>([
        [66, desired.nextServer],
        [67, policy.bootFile],
    ]);
    for (const optionId of POLICY_OPTIONS) {
        const value = wanted.get(optionId)!;
        if (!same(policyOptions.get(optionId), [value])) {
            actions.push({ cmdlet: `Set-DhcpServerv4OptionValue -ScopeId ${id} -PolicyName ${name} -OptionId ${optionId} -Value ${psQuote(value)}` });
        }
    }
    // Other options of an adopted policy of the same name are its owner's.
    const extra = ours ? [...policyOptions.keys()].filter((o) => !wanted.has(o)).sort((a, b) => a - b) : [];
    for (const optionId of extra) {
        actions.push({
            cmdlet: `Remove-DhcpServerv4OptionValue -ScopeId ${id} -PolicyName ${name} -OptionId ${optionId}`,
            onlyIf: `Get-DhcpServerv4OptionValue -ScopeId ${id} -PolicyName ${name} -OptionId ${optionId} -ErrorAction SilentlyContinue`,
        });
    }
    return actions;
}

function removeReservation(id: string, have: { ClientId: string; IPAddress: string }): WindowsAction {
    return {
        cmdlet: `Remove-DhcpServerv4Reservation -ScopeId ${id} -ClientId ${psQuote(have.ClientId)}`,
        onlyIf: `$reserved[${psQuote(have.ClientId)}] -eq ${psQuote(have.IPAddress)}`,
        readsReservations: true,
    };
}

/**
 * Reservations are keyed by client ID: one whose address changes is removed and added again
 * (Set-DhcpServerv4Reservation selects by -IPAddress and cannot move it). A reservation of a
 * client the config does not name goes only if this resource added it. All removals come
 * before all additions, so an address can pass from one client to another. The conditions read
 * the scope's reservations once per script rather than asking per client:
 * `Get-DhcpServerv4Reservation -ClientId` also answers for a client that only holds a lease
 * (MicrosoftDocs/windows-powershell-docs#56).
 */
function planReservations(desired: WindowsDesired, state: WindowsState, record: WindowsOwned): WindowsAction[] {
    const id = psQuote(desired.scopeId);
    const removals: WindowsAction[] = [];
    const renames: WindowsAction[] = [];
    const additions: WindowsAction[] = [];
    const wantByClient = new Map(desired.reservations.map((r) => [r.ClientId.toLowerCase(), r]));
    const haveByClient = new Map(state.reservations.map((r) => [r.ClientId.toLowerCase(), r]));
    const kept = new Map<string, { ClientId: string; Name: string }>();
    for (const [clientId, have] of haveByClient) {
        const want = wantByClient.get(clientId);
        if (want && want.IPAddress !== have.IPAddress) {
            removals.push(removeReservation(id, have));
        } else if (!want) {
            if (record.reservations.includes(clientId)) removals.push(removeReservation(id, have));
            else kept.set(have.IPAddress, have);
        } else {
            kept.set(have.IPAddress, have);
            if (want.Name !== have.Name) {
                renames.push({ cmdlet: `Set-DhcpServerv4Reservation -IPAddress ${psQuote(have.IPAddress)} -Name ${psQuote(want.Name)}` });
            }
        }
    }
    for (const [clientId, want] of wantByClient) {
        const have = haveByClient.get(clientId);
        if (!have || have.IPAddress !== want.IPAddress) {
            const holder = kept.get(want.IPAddress);
            if (holder) {
                throw new Error(
                    `nodes: ${want.Name} ${want.IPAddress} is reserved in DHCP scope ${desired.scopeId} on ${desired.server} for client ${holder.ClientId} ` +
                        `${psQuote(holder.Name)}, which this resource did not create; nothing was changed`,
                );
            }
            additions.push({
                cmdlet: `Add-DhcpServerv4Reservation -ScopeId ${id} -IPAddress ${psQuote(want.IPAddress)} -ClientId ${psQuote(want.ClientId)} -Name ${psQuote(want.Name)}`,
                onlyIf: `$reserved[${psQuote(want.ClientId)}] -ne ${psQuote(want.IPAddress)}`,
                readsReservations: true,
            });
            record.reservations.push(clientId);
        }
    }
    record.reservations = record.reservations.filter((c) => wantByClient.has(c));
    return [...removals, ...renames, ...additions];
}

/** The plan as cmdlets (what a refresh reports as still needed); empty when the server matches. */
export function planWindowsScope(desired: WindowsDesired, state: WindowsState, owned?: WindowsOwned): string[] {
    return planWindowsActions(desired, state, owned).map((a) => a.cmdlet);
}

/** The cmdlets of a plan that remove something: what the preview (after a refresh) must show before an up sends them. */
export function removalCmdlets(cmdlets: readonly string[]): string[] {
    return cmdlets.filter((c) => /^Remove-/.test(c));
}

/** One statement of a script: the cmdlet, inside its condition when it has one. */
export function actionStatement(action: WindowsAction, scopeId: string): ScriptStatement {
    return {
        text: action.onlyIf ? `if (${action.onlyIf}) { ${action.cmdlet} }` : action.cmdlet,
        setup: action.readsReservations ? reservedSnapshot(scopeId) : undefined,
    };
}

/**
 * A step as the converge engine runs it: one script on the remote host, sent as `commandLine`
 * (at most COMMAND_LINE_BUDGET characters), described by `what` in one line for logs.
 */
export interface RemoteScriptStep {
    kind: "remote-script";
    what: string;
    commandLine: string;
    mutating: true;
}

function scriptSteps(label: string, statements: readonly ScriptStatement[], budget: number): RemoteScriptStep[] {
    const scripts = packScripts(statements, budget);
    return scripts.map((script, index) => {
        const cmdlets = script.split("\n").filter((line) => line && line !== SCRIPT_PREAMBLE && !line.startsWith("$reserved = ")).length;
        const part = scripts.length > 1 ? `, script ${index + 1} of ${scripts.length}` : "";
        return {
            kind: "remote-script",
            what: `${label}: ${cmdlets} DhcpServer cmdlet${cmdlets === 1 ? "" : "s"}${part}`,
            commandLine: encodedCommand(script),
            mutating: true,
        };
    });
}

/**
 * The plan as steps, in order: each an idempotent script ($ErrorActionPreference = 'Stop', every
 * Add/Remove under the condition that it is still needed) whose command line fits cmd.exe.
 * No steps when the server already matches.
 */
export function windowsApplySteps(
    desired: WindowsDesired,
    state: WindowsState,
    budget = COMMAND_LINE_BUDGET,
    owned?: WindowsOwned,
): RemoteScriptStep[] {
    return windowsActionSteps(`configure DHCP scope ${desired.scopeId}`, desired.scopeId, planWindowsActions(desired, state, owned), budget);
}

/** Actions as steps (see windowsApplySteps). */
export function windowsActionSteps(
    label: string,
    scopeId: string,
    actions: readonly WindowsAction[],
    budget = COMMAND_LINE_BUDGET,
): RemoteScriptStep[] {
    return scriptSteps(
        label,
        actions.map((a) => actionStatement(a, scopeId)),
        budget,
    );
}

/**
 * Delete: only what `owned` records. A scope this resource created goes with -Force (its leases
 * are its clients'), unless it holds reservations or policies someone else made, which would go
 * with it: then nothing is removed and the error names them. An adopted scope stays with
 * everything it did not get from this resource; only our policies (with their options),
 * reservations and scope options go, and what the config overwrote (the scope's settings, option
 * values) is put back as it was. Then the server-wide classes this resource added, but
 * for those a policy of another scope (or of the server) still names. Without a record (state written before it was kept) nothing is known to be ours: nothing goes.
 */
export function windowsRemovalPlan(scopeId: string, server: string, state: WindowsState, owned: WindowsOwned | undefined): WindowsAction[] {
    if (!owned) return [];
    const id = psQuote(scopeId);
    const actions: WindowsAction[] = [];
    if (state.scope && owned.scope === "created") {
        const foreign = foreignEntries(state, owned);
        if (foreign.length) {
            throw new Error(
                `DHCP scope ${scopeId} on ${server} holds what this resource did not create (${foreign.join(", ")}); nothing was removed: move or remove those, then delete again`,
            );
        }
        actions.push({
            cmdlet: `Remove-DhcpServerv4Scope -ScopeId ${id} -Force`,
            onlyIf: `Get-DhcpServerv4Scope -ScopeId ${id} -ErrorAction SilentlyContinue`,
        });
    } else if (state.scope) {
        for (const policy of state.policies.filter((p) => owned.policies.includes(p.Name))) {
            const name = psQuote(policy.Name);
            actions.push({
                cmdlet: `Remove-DhcpServerv4Policy -Name ${name} -ScopeId ${id}`,
                onlyIf: `Get-DhcpServerv4Policy -Name ${name} -ScopeId ${id} -ErrorAction SilentlyContinue`,
            });
        }
        for (const reservation of state.reservations.filter((r) => owned.reservations.includes(r.ClientId.toLowerCase()))) {
            actions.push(removeReservation(id, reservation));
        }
        const scopeOptions = state.options.filter((o) => o.PolicyName === null && owned.scopeOptions.includes(o.OptionId));
        for (const optionId of sortedUnique(scopeOptions.map((o) => o.OptionId))) {
            actions.push({
                cmdlet: `Remove-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${optionId}`,
                onlyIf: `Get-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${optionId} -ErrorAction SilentlyContinue`,
            });
        }
        // What the config overwrote goes back as it was.
        const settings = scopeChanges(state.scope, owned.originals?.scope ?? {});
        if (settings.length) actions.push({ cmdlet: `Set-DhcpServerv4Scope -ScopeId ${id} ${settings.join(" ")}` });
        const current = new Map(state.options.filter((o) => o.PolicyName === null).map((o) => [o.OptionId, o.Value]));
        for (const [key, value] of Object.entries(owned.originals?.options ?? {})) {
            if (same(current.get(Number(key)), value)) continue;
            actions.push({ cmdlet: `Set-DhcpServerv4OptionValue -ScopeId ${id} -OptionId ${key} -Value ${value.map(psQuote).join(",")}` });
        }
    }
    // A class is server-wide: another scope's policy (another DhcpScope's, say, which found it here) may use it.
    const inUse = (name: string) => state.classUsers.some((u) => u.Classes.some((value) => value.replace(/\*$/, "") === name));
    for (const cls of CLASSES.filter((c) => owned.classes.includes(c.Name) && !inUse(c.Name))) {
        const have = state.classes.find((c) => c.Name === cls.Name);
        if (!have) continue;
        const name = psQuote(cls.Name);
        actions.push({
            cmdlet: `Remove-DhcpServerv4Class -Name ${name} -Type ${have.Type}`,
            onlyIf: `Get-DhcpServerv4Class -Name ${name} -Type ${have.Type} -ErrorAction SilentlyContinue`,
        });
    }
    return actions;
}

/** Delete, as steps of the same shape as windowsApplySteps (none when nothing is to be removed). */
export function windowsRemovalSteps(scopeId: string, server: string, state: WindowsState, owned: WindowsOwned | undefined): RemoteScriptStep[] {
    return windowsActionSteps(`remove DHCP scope ${scopeId}`, scopeId, windowsRemovalPlan(scopeId, server, state, owned));
}

/** The cmdlets as one script, unconditioned and unsplit: for reading, not for sending (see windowsApplySteps). */
export function renderScript(commands: readonly string[]): string {
    return [SCRIPT_PREAMBLE, ...commands, ""].join("\n");
}
