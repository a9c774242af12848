import { ownedImage, ownerRecordOf } from "../core/ownership";
import { recordOwners, refuseOthersThings } from "../engine/converge";
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

/** A ChrootImage's spec as applied: its build hash, and its owner name (absent in states made before owners were recorded). */
type AppliedImage = ImageSpec & { buildHash: string; managedBy?: string };

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

async function build(host: Host, spec: AppliedImage, created: string[]): Promise<ImageRecord> {
    const started = Date.now();
    let facts = await buildImage(host, spec);
    const buildSeconds = Math.round((Date.now() - started) / 100) / 10;
    if (spec.rollback) facts = await swapWithPrevious(host, spec.name);
    if (spec.managedBy) await recordOwners(host, spec.managedBy, [`+${ownedImage(spec.name)}`]);
    return { ...facts, buildHash: servedAsWanted(spec, facts), buildSeconds, created };
}

/**
 * Create: refuses (naming them) paths of the same name that netboot did not make, unless
 * `adopt` is set; then builds, and records what it made.
 */
export async function createImage(host: Host, spec: AppliedImage): Promise<ImageRecord> {
    // Another stack's image of this name is refused before anything is built (a netboot-made image
    // is no longer everyone's); within the stack the image passes to the resource that builds it.
    if (spec.managedBy) await refuseOthersThings(host, [ownedImage(spec.name)], spec.managedBy);
    const { foreign, present } = await probeImagePaths(host, spec);
    if (foreign.length && !spec.adopt) {
        throw new Error(
            `ChrootImage ${spec.name}: ${foreign.map((p) => `${host.label}:${p}`).join(", ")} already exists and netboot did not make it ` +
                `(an administrator's image?); nothing was changed. Choose another name, or set adopt: true to take it over ` +
                `(delete then leaves what was there; a chroot that a debootstrap source builds anew is kept as ${imagePaths(spec.name).chroot}.adopted).`,
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

export async function updateImage(host: Host, olds: ImageSpec & ImageRecord, spec: AppliedImage): Promise<ImageRecord> {
    const created = olds.created ?? imageOwnPaths(olds);
    if (olds.buildHash !== spec.buildHash) {
        if (spec.managedBy) await refuseOthersThings(host, [ownedImage(spec.name)], spec.managedBy);
        return build(host, spec, [...new Set([...created, ...imageOwnPaths(spec)])]);
    }
    // Same build: only which of the two builds is served, or the connection, changed.
    const facts = olds.rollback !== spec.rollback ? await swapWithPrevious(host, spec.name) : await imageFacts(host, spec.name);
    return { ...facts, buildHash: servedAsWanted(spec, facts), buildSeconds: 0, created };
}

/** Refresh: what is served; a missing image or kernel reads as drift, never as an error. */
export async function readImage(host: Host, props: ImageSpec & ImageRecord): Promise<Partial<ImageRecord>> {
    const facts = await imageFacts(host, props.name);
    return { ...facts, buildHash: servedAsWanted(props, facts) };
}

/**
 * Delete: refused while ltsp.conf boots the image; then exactly what this resource made. An image
 * the host records as another resource's stays: returns that owner.
 */
export async function deleteImage(host: Host, props: ImageSpec & ImageRecord & { managedBy?: string }): Promise<string | undefined> {
    // Handed over to another resource of the stack (a renamed ChrootImage built it since): theirs now.
    const recorded = (await host.readFile(ownerRecordOf(ownedImage(props.name))))?.toString("utf8").trim();
    if (props.managedBy && recorded && recorded !== props.managedBy) return recorded;
    const users = await sectionsUsingImage(host, props.name);
    if (users.length) {
        throw new Error(
            `ChrootImage ${props.name} is still the DEFAULT_IMAGE of [${users.join("], [")}] in ${host.label}:/etc/ltsp/ltsp.conf; ` +
                `reassign those nodes first`,
        );
    }
    // States written before ownership was recorded: the paths that version removed.
    await removeImage(host, props.name, props.created ?? imageOwnPaths(props));
    if (props.managedBy) await recordOwners(host, props.managedBy, [`-${ownedImage(props.name)}`]);
    return undefined;
}
