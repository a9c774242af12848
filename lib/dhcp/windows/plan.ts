import {
    foreignEntries,
    leaseDuration,
    SCOPE_SETTINGS,
    same,
    sameText,
    scopeChanges,
    sortedUnique,
    type WindowsAction,
    type WindowsOwned,
} from "./actions";
import { psQuote } from "./commandLine";
import { CLASSES, type WindowsDesired } from "./desired";
import { planPolicy } from "./policies";
import { planReservations } from "./reservations";
import type { WindowsState } from "./state";

/** The cmdlets to send, and the record of what the resource owns once they have run. */
export interface WindowsPlan {
    actions: WindowsAction[];
    owned: WindowsOwned;
}

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

/** The plan as cmdlets (what a refresh reports as still needed); empty when the server matches. */
export function planWindowsScope(desired: WindowsDesired, state: WindowsState, owned?: WindowsOwned): string[] {
    return planWindowsActions(desired, state, owned).map((a) => a.cmdlet);
}

/** The cmdlets of a plan that remove something: what the preview (after a refresh) must show before an up sends them. */
export function removalCmdlets(cmdlets: readonly string[]): string[] {
    return cmdlets.filter((c) => /^Remove-/.test(c));
}
