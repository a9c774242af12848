/**
 * Who owns what this project manages on a host. Every resource that changes a host has an owner
 * name, "project/stack: Kind name" (its `managedBy`), and records it on the host beside each thing
 * it manages: OWNED_DIR/<kind>/<name>/.owner (lib/remote/owners-*.sh). A stack is refused a thing
 * another stack owns; within one stack a thing passes to the resource that writes it last (a
 * renamed or replaced resource), and a delete removes only what its owner still owns.
 */
export const OWNED_DIR = "/var/lib/netboot/owned";

export function ownerName(project: string, stack: string, kind: string, name: string): string {
    return `${project}/${stack}: ${kind} ${name}`;
}

/** "project/stack" of an owner name. */
export function stackOf(owner: string): string {
    const end = owner.indexOf(": ");
    return end < 0 ? owner : owner.slice(0, end);
}

/** The registry's key of a managed file: file/etc/ltsp/ltsp.conf. */
export function ownedFile(path: string): string {
    return `file${path.startsWith("/") ? "" : "/"}${path}`;
}

/** The registry's key of an image (its name under /srv/ltsp/images). */
export function ownedImage(name: string): string {
    return `image/${name}`;
}

/** Where an owned thing's record is. */
export function ownerRecordOf(thing: string): string {
    return `${OWNED_DIR}/${thing}/.owner`;
}

/** Where the file that was at `path` before its owner managed it is kept, for delete to put back. */
export function originalOf(path: string): string {
    return `${OWNED_DIR}/${ownedFile(path)}/.original`;
}
