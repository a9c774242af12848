import { WindowsState } from "../../../lib/dhcp/windows";

/**
 * A Windows DHCP Server for the provider tests: it decodes `powershell.exe -EncodedCommand`, answers
 * the read script with its state as JSON, and carries out the DhcpServer cmdlets our plans use, as
 * their documentation describes them (Add/Set/Remove of scope, option values, classes, policies,
 * reservations). A cmdlet it does not know fails the script, as `$ErrorActionPreference = 'Stop'`
 * would make a real error do.
 */
export class FakeWindowsDhcp {
    state: WindowsState = { scope: null, options: [], reservations: [], classes: [], policies: [], optionDefinitions: [] };
    /** Every cmdlet carried out, in order. */
    readonly cmdlets: string[] = [];

    answer(commandLine: string): string {
        const encoded = /-EncodedCommand (\S+)$/.exec(commandLine);
        if (!encoded) throw new Error(`not a PowerShell command line: ${commandLine}`);
        const script = Buffer.from(encoded[1], "base64").toString("utf16le");
        if (script.includes("ConvertTo-Json")) return JSON.stringify(this.state);
        for (const line of script.split("\n").map((l) => l.trim())) {
            if (!line || line.startsWith("$ErrorActionPreference")) continue;
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
                    LeaseSeconds: Number(/-Seconds (\d+)/.exec(p.LeaseDuration[0])![1]),
                    State: p.State[0],
                };
                return;
            case "Set-DhcpServerv4Scope":
                Object.assign(s.scope!, {
                    Name: p.Name[0],
                    StartRange: p.StartRange[0],
                    EndRange: p.EndRange[0],
                    LeaseSeconds: Number(/-Seconds (\d+)/.exec(p.LeaseDuration[0])![1]),
                    State: p.State[0],
                });
                return;
            case "Remove-DhcpServerv4Scope":
                s.scope = null;
                s.options = [];
                s.policies = [];
                s.reservations = [];
                return;
            case "Add-DhcpServerv4OptionDefinition":
                s.optionDefinitions.push(Number(p.OptionId[0]));
                return;
            case "Set-DhcpServerv4OptionValue": {
                const policy = p.PolicyName?.[0] ?? null;
                const id = Number(p.OptionId[0]);
                s.options = [...s.options.filter((o) => !(o.PolicyName === policy && o.OptionId === id)), { OptionId: id, Value: p.Value, PolicyName: policy }];
                return;
            }
            case "Remove-DhcpServerv4OptionValue": {
                const ids = p.OptionId[0].split(",").map(Number);
                const remove = scopeOptions(null).filter((o) => ids.includes(o.OptionId));
                s.options = s.options.filter((o) => !remove.includes(o));
                return;
            }
            case "Add-DhcpServerv4Class":
                s.classes.push({ Name: p.Name[0], Type: p.Type[0], Data: p.Data[0] });
                return;
            case "Set-DhcpServerv4Class":
                s.classes.find((c) => c.Name === p.Name[0])!.Data = p.Data[0];
                return;
            case "Remove-DhcpServerv4Class":
                s.classes = s.classes.filter((c) => c.Name !== p.Name[0]);
                return;
            case "Add-DhcpServerv4Policy":
                s.policies.push({
                    Name: p.Name[0],
                    ProcessingOrder: Number(p.ProcessingOrder[0]),
                    VendorClass: p.VendorClass ? [p.VendorClass.join(",")] : [],
                    UserClass: p.UserClass ? [p.UserClass.join(",")] : [],
                });
                return;
            case "Set-DhcpServerv4Policy":
                s.policies.find((x) => x.Name === p.Name[0])!.ProcessingOrder = Number(p.ProcessingOrder[0]);
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
        else out[m[1]] = [...value.replace(/^EQ,/, "").matchAll(/'((?:[^']|'')*)'|([^,]+)/g)].map((v) => (v[1] !== undefined ? v[1].replace(/''/g, "'") : v[2]));
    }
    return out;
}

function network(address: string, mask: string): string {
    const a = address.split(".").map(Number);
    const m = mask.split(".").map(Number);
    return a.map((o, i) => o & m[i]).join(".");
}
