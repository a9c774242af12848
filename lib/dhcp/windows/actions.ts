import { psQuote, type ScriptStatement } from "./commandLine";
import type { WindowsScope, WindowsState } from "./state";

/** The vocabulary the planners share: an action, what the resource owns, and helpers they all compare with. */

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

/** One statement of a script: the cmdlet, inside its condition when it has one. */
export function actionStatement(action: WindowsAction, scopeId: string): ScriptStatement {
    return {
        text: action.onlyIf ? `if (${action.onlyIf}) { ${action.cmdlet} }` : action.cmdlet,
        setup: action.readsReservations ? reservedSnapshot(scopeId) : undefined,
    };
}

/** Lease duration as Set-DhcpServerv4Scope's documented `day.hrs:mins:secs` (its example: 4.00:00:00). */
export function leaseDuration(seconds: number): string {
    const two = (n: number) => String(n).padStart(2, "0");
    return `${Math.floor(seconds / 86400)}.${two(Math.floor((seconds % 86400) / 3600))}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
}

export const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
export const sameText = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export const sortedUnique = <T extends string | number>(values: Iterable<T>): T[] =>
    [...new Set(values)].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))));

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
export type ScopeSettings = Pick<WindowsScope, "Name" | "StartRange" | "EndRange" | "LeaseSeconds" | "State" | "ActivatePolicies">;
export const SCOPE_SETTINGS = ["Name", "StartRange", "EndRange", "LeaseSeconds", "State", "ActivatePolicies"] as const;

/** Set-DhcpServerv4Scope's parameters that take a scope from `have` to the settings `want` gives. */
export function scopeChanges(have: ScopeSettings, want: Partial<ScopeSettings>): string[] {
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

/** What a scope holds that `owned` does not list: reservations and policies an administrator made. */
export function foreignEntries(state: WindowsState, owned: WindowsOwned | undefined): string[] {
    const reservations = state.reservations
        .filter((r) => !owned?.reservations.includes(r.ClientId.toLowerCase()))
        .map((r) => `reservation ${r.IPAddress} ${psQuote(r.Name)}`);
    const policies = state.policies.filter((p) => !owned?.policies.includes(p.Name)).map((p) => `policy ${psQuote(p.Name)}`);
    return [...reservations, ...policies];
}

export function removeReservation(id: string, have: { ClientId: string; IPAddress: string }): WindowsAction {
    return {
        cmdlet: `Remove-DhcpServerv4Reservation -ScopeId ${id} -ClientId ${psQuote(have.ClientId)}`,
        onlyIf: `$reserved[${psQuote(have.ClientId)}] -eq ${psQuote(have.IPAddress)}`,
        readsReservations: true,
    };
}
