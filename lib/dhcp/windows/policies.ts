import { same, sameText, type WindowsAction, type WindowsOwned } from "./actions";
import { psQuote } from "./commandLine";
import type { DesiredPolicy, WindowsDesired } from "./desired";
import { POLICY_CRITERIA, type WindowsState } from "./state";

/** The comparator and values of a policy criterion, as Add-DhcpServerv4Policy's example 9 writes them: "EQ","Android". */
function criterionValues(values: readonly string[]): string {
    return values.map(psQuote).join(",");
}

/** Options each of our policies carries: 66 (the boot server, as an address) and 67 (the boot file). */
const POLICY_OPTIONS = [66, 67];

/** A policy of ours as it should be: added, or set, with its options 66 and 67; a policy of ours with criteria we cannot clear goes and comes back. */
export function planPolicy(id: string, desired: WindowsDesired, state: WindowsState, policy: DesiredPolicy, record: WindowsOwned): WindowsAction[] {
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
