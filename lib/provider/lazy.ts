import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";

const TSCONFIG = join(__dirname, "..", "..", "tsconfig.json");

type Method = "check" | "diff" | "read" | "update" | "delete";
type Implementation = Required<Pick<pulumi.dynamic.ResourceProvider, Method | "create">>;

/**
 * The provider handed to the engine for every dynamic resource. The engine serializes it into
 * each resource's state (twice: inputs and outputs), so it must stay tiny: it captures two
 * strings and, when first called in the dynamic-provider process, loads the real implementation
 * (`exportName` of `modulePath`) from this checkout through ts-node. State stays small and every
 * run uses the current code. `methods` lists what the implementation has besides create, so
 * nothing else is serialized (a missing method is the engine's default).
 */
export function lazyProvider(modulePath: string, exportName: string, methods: readonly Method[]): pulumi.dynamic.ResourceProvider {
    const tsconfig = TSCONFIG;
    const load = (): Implementation => {
        const g = globalThis as { __netbootTsNode?: boolean };
        if (!g.__netbootTsNode) {
            require("ts-node").register({ transpileOnly: true, project: tsconfig });
            g.__netbootTsNode = true;
        }
        return require(modulePath)[exportName];
    };
    const all: Implementation = {
        check: (o, n) => load().check(o, n),
        diff: (i, o, n) => load().diff(i, o, n),
        create: (n) => load().create(n),
        read: (i, p) => load().read(i, p),
        update: (i, o, n) => load().update(i, o, n),
        delete: (i, p) => load().delete(i, p),
    };
    const provider: pulumi.dynamic.ResourceProvider = { create: all.create };
    for (const m of methods) (provider as Record<Method, unknown>)[m] = all[m];
    return provider;
}
