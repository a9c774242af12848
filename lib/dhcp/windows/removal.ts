import { foreignEntries, removeReservation, same, scopeChanges, sortedUnique, type WindowsAction, type WindowsOwned } from "./actions";
import { psQuote } from "./commandLine";
import { CLASSES } from "./desired";
import type { WindowsState } from "./state";
import { type RemoteScriptStep, windowsActionSteps } from "./steps";

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
