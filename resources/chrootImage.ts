import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { ownerName } from "../lib/core/ownership";
import { createImage, deleteImage, type ImageRecord, readImage, updateImage } from "../lib/images/imageApply";
import { buildHash, type ImageSpec, type imageSchema, validateImage } from "../lib/images/imageSpec";
import { anotherMachine, checkInputs, type ResourceArgs, requireValid, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";
import { progress } from "../lib/provider/progress";
import { announceReplacement } from "../lib/provider/replacement";
import { connectHost } from "../lib/ssh/pool";

/**
 * An LTSP client image built on a server: a debootstrap chroot (or the server's own root, or an
 * existing chroot/VM disk), squashed by `ltsp image`, its kernel and initrd put in TFTP by
 * `ltsp kernel`. Rebuilt only when what it is built from changes; the previous build is kept
 * and `rollback: true` serves it.
 */
export type ChrootImageArgs = ResourceArgs<z.input<typeof imageSchema>>;

interface CheckedInputs extends ImageSpec {
    /** Hash of what the image is built from: a different hash means a rebuild. */
    buildHash: string;
    /** "project/stack: ChrootImage name" (absent in states made before owners were recorded). */
    managedBy?: string;
}

interface Outputs extends CheckedInputs, ImageRecord {}

function parse(inputs: Record<string, unknown>): CheckedInputs {
    const { buildHash: hash, managedBy, ...rest } = withoutProvider(inputs);
    return {
        ...requireValid(`ChrootImage ${String(rest.name)}`, validateImage(rest)),
        buildHash: hash as string,
        managedBy: managedBy as string | undefined,
    };
}

export const chrootImageProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        const { managedBy, ...rest } = withoutProvider(news);
        return checkInputs(news, rest, validateImage, (spec) => ({ ...spec, managedBy, buildHash: buildHash(spec) }));
    },

    async diff(_id, olds: Outputs, news: CheckedInputs) {
        const rebuild = olds.buildHash !== news.buildHash;
        const rollback = olds.rollback !== news.rollback;
        const other = olds.aptProxy !== news.aptProxy || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
        // Another name is another image; another machine (host key) another server.
        const replaces = [...(olds.name !== news.name ? ["name"] : []), ...anotherMachine(olds, news)];
        announceReplacement(replaces, olds.managedBy ?? `ChrootImage ${olds.name}`, { olds, news }, { paths: olds.created ?? [] });
        return { changes: rebuild || rollback || other, replaces };
    },

    async create(inputs) {
        const spec = parse(inputs);
        const host = await connectHost(spec.connection, spec.managedBy);
        return { id: `${spec.connection.host}:${spec.name}`, outs: { ...spec, ...(await createImage(host, spec)) } };
    },

    async update(_id, olds: Outputs, news) {
        const spec = parse(news);
        const host = await connectHost(spec.connection, spec.managedBy);
        return { outs: { ...spec, ...(await updateImage(host, olds, spec)) } };
    },

    async read(id, props: Outputs) {
        const host = await connectHost(props.connection);
        return { id, props: { ...props, ...(await readImage(host, props)) } };
    },

    async delete(_id, props: Outputs) {
        const host = await connectHost(props.connection, props.managedBy);
        const keptFor = await deleteImage(host, props);
        if (keptFor) progress(`ChrootImage ${props.name}: kept on ${host.label}, it is ${keptFor}'s now`);
    },
};

export class ChrootImage extends LazyDynamicResource {
    declare readonly name: pulumi.Output<string>;
    declare readonly imagePath: pulumi.Output<string>;
    declare readonly size: pulumi.Output<number>;
    declare readonly sha256: pulumi.Output<string>;
    declare readonly kernelVersion: pulumi.Output<string>;
    declare readonly buildSeconds: pulumi.Output<number>;
    declare readonly buildHash: pulumi.Output<string>;

    constructor(name: string, args: ChrootImageArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            ...(args as object),
            imagePath: undefined,
            size: undefined,
            sha256: undefined,
            kernelVersion: undefined,
            buildSeconds: undefined,
            buildHash: undefined,
            managedBy: ownerName(pulumi.getProject(), pulumi.getStack(), "ChrootImage", name),
        };
        super(__filename, "chrootImageProvider", "ChrootImage", name, props, opts);
    }
}
