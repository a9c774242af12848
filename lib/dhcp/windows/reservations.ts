import { removeReservation, type WindowsAction, type WindowsOwned } from "./actions";
import { psQuote } from "./commandLine";
import type { WindowsDesired } from "./desired";
import type { WindowsState } from "./state";

/**
 * Reservations are keyed by client ID: one whose address changes is removed and added again
 * (Set-DhcpServerv4Reservation selects by -IPAddress and cannot move it). A reservation of a
 * client the config does not name goes only if this resource added it. All removals come
 * before all additions, so an address can pass from one client to another. The conditions read
 * the scope's reservations once per script rather than asking per client:
 * `Get-DhcpServerv4Reservation -ClientId` also answers for a client that only holds a lease
 * (MicrosoftDocs/windows-powershell-docs#56).
 */
export function planReservations(desired: WindowsDesired, state: WindowsState, record: WindowsOwned): WindowsAction[] {
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
