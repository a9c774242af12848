import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";

const TSCONFIG = join(__dirname, "..", "..", "tsconfig.json");

/**
 * The provider handed to the engine for every dynamic resource. The engine serializes it into
 * each resource's state, so it must stay tiny: it captures two strings and, when first called in
 * the dynamic-provider process, loads the real implementation (`exportName` of `modulePath`)
 * from this checkout through ts-node. State stays small (a few hundred bytes per resource, not
 * the whole module graph) and every run uses the current code.
 */
export function lazyProvider(modulePath: string, exportName: string): pulumi.dynamic.ResourceProvider {
    const tsconfig = TSCONFIG;
    const load = (): pulumi.dynamic.ResourceProvider => {
        const registry = globalThis as { __netbootTsNode?: boolean };
        if (!registry.__netbootTsNode && modulePath.endsWith(".ts")) {
            require("ts-node").register({ transpileOnly: true, project: tsconfig });
            registry.__netbootTsNode = true;
        }
        return require(modulePath)[exportName];
    };
    return {
        check: (olds, news) => load().check!(olds, news),
        diff: (id, olds, news) => load().diff!(id, olds, news),
        create: (inputs) => load().create(inputs),
        read: (id, props) => load().read!(id, props),
        update: (id, olds, news) => load().update!(id, olds, news),
        delete: (id, props) => load().delete!(id, props),
    };
}
