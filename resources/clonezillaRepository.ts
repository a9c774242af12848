import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { ensureRepository, type RepositoryRecord, removeRepository, repositoryFacts } from "../lib/clonezilla/repositoryApply";
import {
    type ClonezillaImageParts,
    clonezillaImageParts,
    menuEntries,
    type RepositorySpec,
    repositoryFields,
    type repositorySchema,
    sshdDropIn,
    validateRepository,
} from "../lib/clonezilla/repositorySpec";
import { ownerName } from "../lib/core/ownership";
import { sha256Hex } from "../lib/core/sha256";
import type { ManagedFileRecord } from "../lib/engine/steps";
import type { MenuEntry } from "../lib/ltsp/bootMenu";
import { anotherMachine, checkInputs, inputsDiffer, type ResourceArgs, requireValid, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";
import { announceReplacement } from "../lib/provider/replacement";
import { connectHost } from "../lib/ssh/pool";

/**
 * The Clonezilla image repository on a boot server: a directory reached over SFTP by a
 * dedicated account that only the key made for it opens, from the client networks only, with
 * the server's host key pinned on the clients. Its outputs feed the Clonezilla ChrootImage
 * (`imageParts`: packages, files, the key copied on the server) and the LtspServer's boot menu
 * (`menuEntries`: "save this disk as NAME", "restore NAME to this disk").
 */
export type ClonezillaRepositoryArgs = ResourceArgs<z.input<typeof repositorySchema>> & { aptProxy?: pulumi.Input<string> };

interface CheckedInputs extends RepositorySpec {
    aptProxy?: string;
    /** "project/stack: ClonezillaRepository name" (absent in states made before owners were recorded). */
    managedBy?: string;
    /** The sshd drop-in, for `preview --diff`. */
    sshdConfigText: string;
}

interface Outputs extends CheckedInputs, RepositoryRecord {
    menuEntries: MenuEntry[];
    imageParts: ClonezillaImageParts;
}

const INPUT_KEYS = [...Object.keys(repositoryFields.shape), "aptProxy"];

function parse(inputs: Record<string, unknown>): CheckedInputs {
    const { aptProxy, sshdConfigText, managedBy, ...rest } = withoutProvider(inputs);
    const spec = requireValid(`ClonezillaRepository ${String(rest.repository ?? "")}`, validateRepository(rest));
    return {
        ...spec,
        aptProxy: aptProxy as string | undefined,
        sshdConfigText: sshdConfigText as string,
        managedBy: managedBy as string | undefined,
    };
}

async function converge(spec: CheckedInputs, managed: Record<string, ManagedFileRecord>): Promise<Outputs> {
    const host = await connectHost(spec.connection, spec.managedBy);
    const record = await ensureRepository(host, spec, spec.aptProxy, managed, spec.managedBy);
    return { ...spec, ...record, menuEntries: menuEntries(spec), imageParts: clonezillaImageParts(spec, record.keyFingerprint) };
}

export const clonezillaRepositoryProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        const { aptProxy, managedBy, ...rest } = withoutProvider(news);
        return checkInputs(news, rest, validateRepository, (spec) => ({ ...spec, aptProxy, managedBy, sshdConfigText: sshdDropIn(spec) }));
    },

    async diff(_id, olds: Outputs, news: CheckedInputs) {
        const changed = inputsDiffer(olds as unknown as Record<string, unknown>, news as unknown as Record<string, unknown>, INPUT_KEYS);
        // Drift seen by refresh: the drop-in edited or removed, the key pair gone.
        const drift = olds.sshdConfig !== sha256Hex(news.sshdConfigText ?? "") || olds.keyFingerprint === "missing";
        const replaces = anotherMachine(olds, news);
        // removeRepository: the account's access (sshd drop-in, key pair); the saved images stay.
        const destroyed = { paths: ["the repository's sshd drop-in, key pair and key door (the saved images stay)"] };
        announceReplacement(replaces, olds.managedBy ?? `ClonezillaRepository ${olds.repository}`, { olds, news }, destroyed);
        return { changes: changed.length > 0 || drift, replaces };
    },

    async create(inputs) {
        const spec = parse(inputs);
        return { id: `${spec.connection.host}:${spec.repository}`, outs: await converge(spec, {}) };
    },

    async update(_id, olds: Outputs, news) {
        return { outs: await converge(parse(news), olds.managedFiles ?? {}) };
    },

    async read(id, props: Outputs) {
        const host = await connectHost(props.connection);
        return { id, props: { ...props, ...(await repositoryFacts(host, props)) } };
    },

    async delete(_id, props: Outputs) {
        const host = await connectHost(props.connection, props.managedBy);
        await removeRepository(host, props.managedFiles ?? {}, props.managedBy);
    },
};

export class ClonezillaRepository extends LazyDynamicResource {
    declare readonly keyFingerprint: pulumi.Output<string>;
    declare readonly hostKeyFingerprint: pulumi.Output<string>;
    declare readonly images: pulumi.Output<string[]>;
    declare readonly menuEntries: pulumi.Output<MenuEntry[]>;
    declare readonly imageParts: pulumi.Output<ClonezillaImageParts>;

    constructor(name: string, args: ClonezillaRepositoryArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            ...(args as object),
            keyFingerprint: undefined,
            hostKeyFingerprint: undefined,
            images: undefined,
            sshdConfig: undefined,
            menuEntries: undefined,
            imageParts: undefined,
            managedBy: ownerName(pulumi.getProject(), pulumi.getStack(), "ClonezillaRepository", name),
        };
        super(__filename, "clonezillaRepositoryProvider", "ClonezillaRepository", name, props, opts);
    }
}
