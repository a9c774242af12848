import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import { type BalanceConf, balanceLtspConf } from "../lib/balance/ltspConf";
import { type BalanceInput, validateBalance } from "../lib/balance/spec";
import type { StickyPlan } from "../lib/balance/sticky";
import type { CheckFailure } from "../lib/core/fields";
import { normalizeMac } from "../lib/core/node";
import { containsUnknown, knownFailures, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";

/**
 * A school site's session balancing, decided at `up` (lib/balance): the validated config, each
 * client's ltsp.conf values (BALANCE_PREFER for fixed and sticky) and the [clients] section's.
 * It touches no host. For `sticky` the assignment is computed in `check` from the one this
 * resource stored at the last `up` (its old inputs), so clients keep their servers, and a
 * preview (whose outputs are these checked inputs) already shows which clients move: their
 * NodeAssignments and [MAC] sections change, nobody else's, and `moved` lists them.
 */
export interface SessionBalanceArgs {
    /** The site's balance config, servers included (lib/balance/spec.ts). */
    balance: pulumi.Input<BalanceInput>;
    /** Every client's MAC. */
    clients: pulumi.Input<pulumi.Input<string>[]>;
}

interface Checked {
    balance: BalanceInput;
    clients: string[];
    /** sticky: the assignment, which the next `up` starts from. */
    plan: StickyPlan | null;
    clientsSection: BalanceConf["clients"];
    perClient: BalanceConf["perClient"];
    /** Clients whose server this run changes, against the last `up`. */
    moved: BalanceConf["moved"];
}

/** The failures of `validateBalance` with the field named from the resource's inputs (`balance.policy`). */
function failuresOf(balance: unknown, clients: readonly string[]): { failures: CheckFailure[]; spec?: ReturnType<typeof validateBalance> } {
    const validated = validateBalance(balance, clients);
    if (validated.ok) return { failures: [], spec: validated };
    return {
        failures: validated.failures.map((f) => ({ property: `balance.${f.property}`, reason: `balance.${f.reason}` })),
    };
}

export const sessionBalanceProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        const inputs = withoutProvider(news) as { balance: unknown; clients: unknown };
        const clients = Array.isArray(inputs.clients) ? (inputs.clients as string[]) : [];
        if (containsUnknown(inputs)) {
            const { failures } = failuresOf(inputs.balance, clients);
            const known = knownFailures(inputs, failures);
            return known.length ? { failures: known } : { inputs: news };
        }
        const validated = validateBalance(inputs.balance, clients);
        if (!validated.ok) return { failures: failuresOf(inputs.balance, clients).failures };
        const previous = (olds as Partial<Checked>).plan ?? undefined;
        const macs = [...new Set(clients.map((c) => normalizeMac(c) ?? c))].sort();
        // Each client's section names its own server only: it changes exactly when the client moves.
        const conf = balanceLtspConf(validated.spec, macs, previous, { fallbacks: 0 });
        const checked: Checked = {
            balance: inputs.balance as BalanceInput,
            clients: macs,
            plan: conf.plan ?? null,
            clientsSection: conf.clients,
            perClient: conf.perClient,
            moved: conf.moved,
        };
        return { inputs: checked as unknown as Record<string, unknown> };
    },
    async diff(_id, olds: Checked, news: Checked) {
        const keys = ["balance", "clients", "plan", "clientsSection", "perClient"] as const;
        return { changes: keys.some((k) => !isDeepStrictEqual(olds[k] ?? null, news[k] ?? null)) };
    },
    async create(inputs) {
        return { id: "balance", outs: inputs };
    },
    async update(_id, _olds, news) {
        return { outs: news };
    },
};

export class SessionBalance extends LazyDynamicResource {
    declare readonly plan: pulumi.Output<StickyPlan | null>;
    declare readonly clientsSection: pulumi.Output<BalanceConf["clients"]>;
    declare readonly perClient: pulumi.Output<BalanceConf["perClient"]>;
    declare readonly moved: pulumi.Output<BalanceConf["moved"]>;

    constructor(name: string, args: SessionBalanceArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            __filename,
            "sessionBalanceProvider",
            "SessionBalance",
            name,
            { ...args, plan: undefined, clientsSection: undefined, perClient: undefined, moved: undefined },
            opts,
        );
    }
}
