/**
 * Microsoft Windows DHCP Server, driven with the DhcpServer PowerShell module over OpenSSH.
 * Refresh reads the server with the read script (read.ps1, read.ts: one JSON document, parsed
 * here); `planWindowsActions` (plan.ts, with policies.ts and reservations.ts) compares it with
 * what the scope should be (desired.ts), field by field, and `windowsApplySteps` (steps.ts) turns
 * the difference into scripts that each fit one cmd.exe command line (commandLine.ts), so a
 * second run with nothing changed sends nothing. Boot files go to clients through policies
 * (vendor class for BIOS and UEFI PXE, user class for iPXE), never as scope-level 66/67.
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
