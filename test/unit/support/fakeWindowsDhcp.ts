import { decodeCommandLine } from "../../../lib/dhcp/windows/commandLine";
import { POLICY_CRITERIA, type WindowsPolicy, type WindowsState } from "../../../lib/dhcp/windows/state";

/**
 * A Windows DHCP Server for the provider tests: it decodes `powershell.exe -EncodedCommand`, answers
 * the read script with its state as JSON, and carries out the DhcpServer cmdlets our plans use, as
 * their documentation describes them (Add/Set/Remove of scope, option values, classes, policies,
 * reservations). A statement `if (CONDITION) { CMDLET }` runs its cmdlet (the plans only send what is
 * needed; the conditions guard a second run, which these tests do not make). A cmdlet it does not know
 * fails the script, as `$ErrorActionPreference = 'Stop'` would make a real error do.
 */
export class FakeWindowsDhcp {
    state: WindowsState = {
        scope: null,
        options: [],
        reservations: [],
        classes: [],
        policies: [],
        optionDefinitions: [],
        leaseCount: 0,
        classUsers: [],
    };
    /** Every cmdlet carried out, in order. */
    readonly cmdlets: string[] = [];

    answer(commandLine: string): string {
        const script = decodeCommandLine(commandLine);
        if (script.includes("ConvertTo-Json")) return JSON.stringify(this.state);
        for (let line of script.split("\n").map((l) => l.trim())) {
            if (!line || line.startsWith("$ErrorActionPreference") || line.startsWith("$reserved = ")) continue;
            const guarded = /^if \(.*\) \{ (.*) \}$/.exec(line);
            if (guarded) line = guarded[1];
            this.cmdlets.push(line);
            this.run(line);
        }
        return "";
    }

    private run(line: string): void {
        const [cmdlet] = line.split(" ");
        const p = params(line);
        const s = this.state;
        const scopeOptions = (policy: string | null) => s.options.filter((o) => o.PolicyName === policy);
        switch (cmdlet) {
            case "Add-DhcpServerv4Scope":
                s.scope = {
                    ScopeId: network(p.StartRange[0], p.SubnetMask[0]),
                    Name: p.Name[0],
                    StartRange: p.StartRange[0],
                    EndRange: p.EndRange[0],
                    SubnetMask: p.SubnetMask[0],
                    LeaseSeconds: seconds(p.LeaseDuration[0]),
                    State: p.State[0],
                    ActivatePolicies: p.ActivatePolicies?.[0] === "$true",
                    Description: p.Description?.[0] ?? "",
                };
                return;
            case "Set-DhcpServerv4Scope":
                if (p.Name) s.scope!.Name = p.Name[0];
                if (p.StartRange) Object.assign(s.scope!, { StartRange: p.StartRange[0], EndRange: p.EndRange[0] });
                if (p.LeaseDuration) s.scope!.LeaseSeconds = seconds(p.LeaseDuration[0]);
                if (p.State) s.scope!.State = p.State[0];
                if (p.ActivatePolicies) s.scope!.ActivatePolicies = p.ActivatePolicies[0] === "$true";
                return;
            case "Remove-DhcpServerv4Scope":
                s.scope = null;
                s.options = [];
                s.policies = [];
                s.reservations = [];
                s.leaseCount = 0;
                return;
            case "Add-DhcpServerv4OptionDefinition":
                s.optionDefinitions.push(Number(p.OptionId[0]));
                return;
            case "Set-DhcpServerv4OptionValue": {
                const policy = p.PolicyName?.[0] ?? null;
                const id = Number(p.OptionId[0]);
                s.options = [
                    ...s.options.filter((o) => !(o.PolicyName === policy && o.OptionId === id)),
                    { OptionId: id, Value: p.Value, PolicyName: policy },
                ];
                return;
            }
            case "Remove-DhcpServerv4OptionValue": {
                const ids = p.OptionId.map(Number);
                const remove = scopeOptions(p.PolicyName?.[0] ?? null).filter((o) => ids.includes(o.OptionId));
                s.options = s.options.filter((o) => !remove.includes(o));
                return;
            }
            case "Add-DhcpServerv4Class":
                s.classes.push({ Name: p.Name[0], Type: p.Type[0], Data: p.Data[0] });
                return;
            case "Set-DhcpServerv4Class":
                // (selects by -Name and -Type)
                s.classes.find((c) => c.Name === p.Name[0])!.Data = p.Data[0];
                return;
            case "Remove-DhcpServerv4Class":
                // (selects by -Name and -Type)
                s.classes = s.classes.filter((c) => !(c.Name === p.Name[0] && c.Type.toLowerCase() === p.Type[0].toLowerCase()));
                return;
            case "Add-DhcpServerv4Policy": {
                const policy = {
                    Name: p.Name[0],
                    ProcessingOrder: Number(p.ProcessingOrder[0]),
                    Enabled: true,
                    Condition: p.Condition[0],
                    ...Object.fromEntries(POLICY_CRITERIA.map((c) => [c, p[c] ?? []])),
                } as WindowsPolicy;
                s.policies.push(policy);
                return;
            }
            case "Set-DhcpServerv4Policy": {
                const policy = s.policies.find((x) => x.Name === p.Name[0])!;
                if (p.ProcessingOrder) policy.ProcessingOrder = Number(p.ProcessingOrder[0]);
                if (p.Condition) policy.Condition = p.Condition[0];
                if (p.Enabled) policy.Enabled = p.Enabled[0] === "$true";
                for (const c of POLICY_CRITERIA) if (p[c]) policy[c] = p[c];
                return;
            }
            case "Remove-DhcpServerv4Policy":
                s.policies = s.policies.filter((x) => x.Name !== p.Name[0]);
                s.options = s.options.filter((o) => o.PolicyName !== p.Name[0]);
                return;
            case "Add-DhcpServerv4Reservation":
                s.reservations.push({ IPAddress: p.IPAddress[0], ClientId: p.ClientId[0].toLowerCase(), Name: p.Name[0] });
                return;
            case "Set-DhcpServerv4Reservation":
                s.reservations.find((r) => r.IPAddress === p.IPAddress[0])!.Name = p.Name[0];
                return;
            case "Remove-DhcpServerv4Reservation":
                s.reservations = s.reservations.filter((r) => r.ClientId !== p.ClientId[0].toLowerCase());
                return;
            default:
                throw new Error(`fake Windows DHCP: unknown cmdlet in: ${line}`);
        }
    }
}

/** -Name value pairs; a value is a list of single-quoted literals or numbers (a,b), or a (...) expression. */
function params(line: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const re = /-(\w+)(?:\s+(\((?:[^()]|\([^()]*\))*\)|(?:EQ,)?(?:'(?:[^']|'')*'|[^\s',-][^\s,]*)(?:,(?:'(?:[^']|'')*'|[^\s',-][^\s,]*))*))?/g;
    for (const m of line.matchAll(re)) {
        const value = m[2] ?? "";
        if (value.startsWith("(")) out[m[1]] = [value];
        else
            out[m[1]] = [...value.replace(/^EQ,/, "").matchAll(/'((?:[^']|'')*)'|([^,]+)/g)].map((v) =>
                v[1] !== undefined ? v[1].replace(/''/g, "'") : v[2],
            );
    }
    return out;
}

/** `day.hrs:mins:secs` (Set-DhcpServerv4Scope's documented form) -> seconds. */
function seconds(duration: string): number {
    const m = /^(\d+)\.(\d\d):(\d\d):(\d\d)$/.exec(duration);
    if (!m) throw new Error(`fake Windows DHCP: not a lease duration: ${duration}`);
    return Number(m[1]) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

function network(address: string, mask: string): string {
    const a = address.split(".").map(Number);
    const m = mask.split(".").map(Number);
    return a.map((o, i) => o & m[i]).join(".");
}
