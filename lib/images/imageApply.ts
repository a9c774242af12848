import type { Host } from "../engine/host";
import {
    buildImage,
    type ImageFacts,
    imageFacts,
    imageOwnPaths,
    imagePaths,
    probeImagePaths,
    removeImage,
    sectionsUsingImage,
    swapWithPrevious,
} from "./imageBuild";
import type { ImageSpec } from "./imageSpec";

/** What a ChrootImage records besides its inputs. */
export interface ImageRecord extends ImageFacts {
    /**
     * The build of these inputs is what the server has: the inputs' build hash, or "" when the
     * image or its kernel is missing or another build replaced it (drift: the next `up` builds).
     */
    buildHash: string;
    /** Seconds the last build took (0 when only rolled back). */
    buildSeconds: number;
    /** The paths this resource made: all that delete removes. */
    created: string[];
}

/** The outputs' build hash for what the server has (see ImageRecord.buildHash). */
function servedAsWanted(spec: ImageSpec & { buildHash: string }, facts: ImageFacts): string {
    if (facts.sha256 === "missing" || facts.kernelVersion === "missing") return "";
    // Rolled back, the previous build is served on purpose; otherwise the marker must be ours.
    if (!spec.rollback && facts.servedBuildHash !== spec.buildHash) return "";
    return spec.buildHash;
}

async function build(host: Host, spec: ImageSpec & { buildHash: string }, created: string[]): Promise<ImageRecord> {
    const started = Date.now();
    let facts = await buildImage(host, spec);
    const buildSeconds = Math.round((Date.now() - started) / 100) / 10;
    if (spec.rollback) facts = await swapWithPrevious(host, spec.name);
    return { ...facts, buildHash: servedAsWanted(spec, facts), buildSeconds, created };
}

/**
 * Create: refuses (naming them) paths of the same name that netboot did not make, unless
 * `adopt` is set; then builds, and records what it made.
 */
export async function createImage(host: Host, spec: ImageSpec & { buildHash: string }): Promise<ImageRecord> {
    const { foreign, present } = await probeImagePaths(host, spec);
    if (foreign.length && !spec.adopt) {
        throw new Error(
            `ChrootImage ${spec.name}: ${foreign.map((p) => `${host.label}:${p}`).join(", ")} already exists and netboot did not make it ` +
                `(an administrator's image?); nothing was changed. Choose another name, or set adopt: true to take it over ` +
                `(delete then leaves what was there).`,
        );
    }
    const p = imagePaths(spec.name);
    // Adopted paths are not ours to remove; neither is the previous build ltsp image keeps of an adopted image.
    const notOurs = new Set([...foreign, ...present]);
    if (notOurs.has(p.image)) notOurs.add(p.previousImage);
    if (notOurs.has(p.tftp)) notOurs.add(p.previousTftp);
    return build(
        host,
        spec,
        imageOwnPaths(spec).filter((path) => !notOurs.has(path)),
    );
}

export async function updateImage(host: Host, olds: ImageSpec & ImageRecord, spec: ImageSpec & { buildHash: string }): Promise<ImageRecord> {
    const created = olds.created ?? imageOwnPaths(olds);
    if (olds.buildHash !== spec.buildHash) return build(host, spec, [...new Set([...created, ...imageOwnPaths(spec)])]);
    // Same build: only which of the two builds is served, or the connection, changed.
    const facts = olds.rollback !== spec.rollback ? await swapWithPrevious(host, spec.name) : await imageFacts(host, spec.name);
    return { ...facts, buildHash: servedAsWanted(spec, facts), buildSeconds: 0, created };
}

/** Refresh: what is served; a missing image or kernel reads as drift, never as an error. */
export async function readImage(host: Host, props: ImageSpec & ImageRecord): Promise<Partial<ImageRecord>> {
    const facts = await imageFacts(host, props.name);
    return { ...facts, buildHash: servedAsWanted(props, facts) };
}

/** Delete: refused while ltsp.conf boots the image; then exactly what this resource made. */
export async function deleteImage(host: Host, props: ImageSpec & ImageRecord): Promise<void> {
    const users = await sectionsUsingImage(host, props.name);
    if (users.length) {
        throw new Error(
            `ChrootImage ${props.name} is still the DEFAULT_IMAGE of [${users.join("], [")}] in ${host.label}:/etc/ltsp/ltsp.conf; ` +
                `reassign those nodes first`,
        );
    }
    // States written before ownership was recorded: the paths that version removed.
    await removeImage(host, props.name, props.created ?? imageOwnPaths(props));
}
