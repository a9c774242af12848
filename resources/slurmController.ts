import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { ownerName } from "../lib/core/ownership";
import type { ManagedFileRecord } from "../lib/engine/steps";
import { anotherMachine, checkInputs, inputsDiffer, type ResourceArgs, requireValid, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";
import { announceReplacement } from "../lib/provider/replacement";
import {
    type ClusterSpec,
    clusterFields,
    type clusterSchema,
    controllerFiles,
    type JoinedNode,
    type Lease,
    mungeKeyFingerprint,
    type NodeImageParts,
    nodeImageParts,
    validateCluster,
} from "../lib/slurm/clusterSpec";
import { ensureController, readController, removeController } from "../lib/slurm/controllerApply";
import { connectHost } from "../lib/ssh/pool";

/**
 * The Slurm queue controller on the LTSP server: slurmctld (configless, dynamic nodes, one
 * partition), munge with the site's key (a Pulumi secret: it reaches the server through stdin and
 * the node image by a copy on the server; state keeps only its sha256), and the shared output
 * directory as an rsync daemon module. Outputs: `nodeImage` (what the node image is built with),
 * `nodes` (the nodes that joined, with their MAC from the DHCP leases) and `leases`, which
 * refresh reads again.
 */
export type SlurmControllerArgs = ResourceArgs<z.input<typeof clusterSchema>> & { aptProxy?: pulumi.Input<string> };

/** Inputs after check: the key itself is kept out of everything the provider returns (see `strip`). */
interface CheckedInputs extends Omit<ClusterSpec, "mungeKey"> {
    mungeKey?: string;
    /** "project/stack: SlurmController name" (absent in states made before owners were recorded). */
    managedBy?: string;
    aptProxy?: string;
    mungeKeySha256: string;
    /** slurm.conf as rendered for preview --diff (SlurmctldHost's name is the server's, read at apply). */
    slurmConfText: string;
}

interface Outputs extends Omit<CheckedInputs, "mungeKey"> {
    controllerHostname: string;
    managedFiles: Record<string, ManagedFileRecord>;
    nodes: JoinedNode[];
    leases: Lease[];
    nodeImage: NodeImageParts;
    /** false after a refresh that found a managed file changed on the server. */
    filesInPlace: boolean;
}

const INPUT_KEYS = [...Object.keys(clusterFields.shape).filter((k) => k !== "mungeKey"), "aptProxy", "mungeKeySha256"];

function parse(inputs: Record<string, unknown>): ClusterSpec & { aptProxy?: string; managedBy?: string } {
    const { aptProxy, managedBy, mungeKeySha256: _sum, slurmConfText: _text, ...rest } = withoutProvider(inputs);
    const spec = requireValid(`SlurmController ${String(rest.clusterName ?? "")}`, validateCluster(rest));
    return { ...spec, aptProxy: aptProxy as string | undefined, managedBy: managedBy as string | undefined };
}

/** Everything the provider hands back to the engine, without the key. */
function outputs(spec: ClusterSpec & { aptProxy?: string }, record: Omit<Outputs, keyof CheckedInputs | "nodeImage" | "filesInPlace">): Outputs {
    const { mungeKey, ...rest } = spec;
    const { connection: _c, ...layout } = rest;
    const sum = mungeKeyFingerprint(mungeKey);
    return {
        ...rest,
        mungeKeySha256: sum,
        slurmConfText: controllerFiles(spec, record.controllerHostname)[1].file.content,
        ...record,
        nodeImage: nodeImageParts(layout),
        filesInPlace: true,
    };
}

export const slurmControllerProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        const { aptProxy, managedBy, ...rest } = withoutProvider(news);
        return checkInputs(news, rest, validateCluster, (spec) => ({
            ...spec,
            aptProxy,
            managedBy,
            mungeKeySha256: mungeKeyFingerprint(spec.mungeKey),
            slurmConfText: controllerFiles(spec, "(the server's host name)")[1].file.content,
        }));
    },

    async diff(_id, olds: Outputs, news: CheckedInputs) {
        const changed = inputsDiffer(olds as unknown as Record<string, unknown>, news as unknown as Record<string, unknown>, INPUT_KEYS);
        const replaces = anotherMachine(olds, news);
        const destroyed = { files: Object.keys(olds.managedFiles ?? {}), services: ["slurmctld", "the rsync daemon"] };
        announceReplacement(replaces, olds.managedBy ?? `SlurmController ${olds.clusterName}`, { olds, news }, destroyed);
        return { changes: changed.length > 0 || olds.filesInPlace === false, replaces };
    },

    async create(inputs) {
        const spec = parse(inputs);
        const host = await connectHost(spec.connection, spec.managedBy);
        const record = await ensureController(host, spec, spec.aptProxy, {}, spec.managedBy);
        return { id: `${spec.connection.host}:slurm:${spec.clusterName}`, outs: outputs(spec, record) };
    },

    async update(_id, olds: Outputs, news) {
        const spec = parse(news);
        const host = await connectHost(spec.connection, spec.managedBy);
        const record = await ensureController(host, spec, spec.aptProxy, olds.managedFiles ?? {}, spec.managedBy);
        return { outs: outputs(spec, record) };
    },

    async read(id, props: Outputs) {
        const host = await connectHost(props.connection);
        // The key is not in state: observe with a placeholder of the right shape and compare the files by their recorded sums.
        const facts = await readController(host, { ...(props as unknown as ClusterSpec), mungeKey: "" });
        const filesInPlace = Object.entries(props.managedFiles ?? {}).every(([path, record]) => facts.fileSums[path] === record.sha256);
        const { fileSums: _sums, ...rest } = facts;
        return { id, props: { ...props, ...rest, filesInPlace } };
    },

    async delete(_id, props: Outputs) {
        const host = await connectHost(props.connection, props.managedBy);
        await removeController(host, props.managedFiles ?? {}, props.managedBy);
    },
};

export class SlurmController extends LazyDynamicResource {
    declare readonly clusterName: pulumi.Output<string>;
    declare readonly controllerHostname: pulumi.Output<string>;
    declare readonly nodes: pulumi.Output<JoinedNode[]>;
    declare readonly leases: pulumi.Output<Lease[]>;
    declare readonly nodeImage: pulumi.Output<NodeImageParts>;
    declare readonly mungeKeySha256: pulumi.Output<string>;
    declare readonly managedFiles: pulumi.Output<Record<string, ManagedFileRecord>>;

    constructor(name: string, args: SlurmControllerArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            ...(args as object),
            controllerHostname: undefined,
            nodes: undefined,
            leases: undefined,
            nodeImage: undefined,
            mungeKeySha256: undefined,
            managedFiles: undefined,
            filesInPlace: undefined,
            managedBy: ownerName(pulumi.getProject(), pulumi.getStack(), "SlurmController", name),
        };
        super(__filename, "slurmControllerProvider", "SlurmController", name, props, opts);
    }
}
