import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { buildImage, imageFacts, ImageFacts, removeImage, sectionsUsingImage, swapWithPrevious } from "../lib/images/imageBuild";
import { buildHash, ImageSpec, imageSchema, validateImage } from "../lib/images/imageSpec";
import { ResourceArgs, checkInputs, requireValid, withoutProvider } from "../lib/provider/inputs";
import { lazyProvider } from "../lib/provider/lazy";
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
}

interface Outputs extends CheckedInputs, ImageFacts {
    /** Seconds the last build took (0 when only rolled back). */
    buildSeconds: number;
}

function parse(inputs: Record<string, unknown>): CheckedInputs {
    const { buildHash: hash, ...rest } = withoutProvider(inputs);
    return { ...requireValid(`ChrootImage ${String(rest.name)}`, validateImage(rest)), buildHash: hash as string };
}

async function build(spec: CheckedInputs): Promise<Outputs> {
    const host = await connectHost(spec.connection);
    const started = Date.now();
    let facts = await buildImage(host, spec);
    const buildSeconds = Math.round((Date.now() - started) / 100) / 10;
    if (spec.rollback) facts = await swapWithPrevious(host, spec.name);
    return { ...spec, ...facts, buildSeconds };
}

export const chrootImageProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkInputs(news, withoutProvider(news), validateImage, (spec) => ({ ...spec, buildHash: buildHash(spec) }));
    },

    async diff(_id, olds: Outputs, news: CheckedInputs) {
        const rebuild = olds.buildHash !== news.buildHash;
        const rollback = olds.rollback !== news.rollback;
        const other = olds.aptProxy !== news.aptProxy || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
        // Another name is another image; another host another server.
        const replaces = [...(olds.name !== news.name ? ["name"] : []), ...(olds.connection?.host !== news.connection?.host ? ["connection.host"] : [])];
        return { changes: rebuild || rollback || other, replaces };
    },

    async create(inputs) {
        const spec = parse(inputs);
        return { id: `${spec.connection.host}:${spec.name}`, outs: await build(spec) };
    },

    async update(_id, olds: Outputs, news) {
        const spec = parse(news);
        if (olds.buildHash !== spec.buildHash) return { outs: await build(spec) };
        const host = await connectHost(spec.connection);
        // Same build: only which of the two builds is served, or the connection, changed.
        const facts = olds.rollback !== spec.rollback ? await swapWithPrevious(host, spec.name) : await imageFacts(host, spec.name);
        return { outs: { ...spec, ...facts, buildSeconds: 0 } };
    },

    async read(id, props: Outputs) {
        const host = await connectHost(props.connection);
        return { id, props: { ...props, ...(await imageFacts(host, props.name)) } };
    },

    async delete(_id, props: Outputs) {
        const host = await connectHost(props.connection);
        const users = await sectionsUsingImage(host, props.name);
        if (users.length) {
            throw new Error(
                `ChrootImage ${props.name} is still the DEFAULT_IMAGE of [${users.join("], [")}] in ${host.label}:/etc/ltsp/ltsp.conf; ` +
                    `reassign those nodes first`,
            );
        }
        await removeImage(host, props);
    },
};

export class ChrootImage extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    declare readonly imagePath: pulumi.Output<string>;
    declare readonly size: pulumi.Output<number>;
    declare readonly sha256: pulumi.Output<string>;
    declare readonly kernelVersion: pulumi.Output<string>;
    declare readonly buildSeconds: pulumi.Output<number>;
    declare readonly buildHash: pulumi.Output<string>;

    constructor(name: string, args: ChrootImageArgs, opts?: pulumi.CustomResourceOptions) {
        const props = { ...(args as object), imagePath: undefined, size: undefined, sha256: undefined, kernelVersion: undefined, buildSeconds: undefined, buildHash: undefined };
        super(lazyProvider(__filename, "chrootImageProvider", ["check", "diff", "read", "update", "delete"]), name, props, opts, "netboot", "ChrootImage");
    }
}
