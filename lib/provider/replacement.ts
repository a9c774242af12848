import { progress } from "./progress";

/**
 * What a replacement destroys, said at preview. A resource is replaced only on another machine
 * (another pinned host key, `anotherMachine`): Pulumi builds the new one there, then runs the old
 * one's delete on the old machine. The engine's diff has no field for it, so the provider's diff
 * prints it as a line of the preview (`progress`), by name.
 */
export interface Destroyed {
    /** Files put back as the administrator had them, or removed when the resource created them. */
    files?: readonly string[];
    /** Paths removed (images, chroots, generated files). */
    paths?: readonly string[];
    /** Accounts removed, with their running sessions. */
    accounts?: readonly string[];
    /** Homes removed with them (removeHomesOnDelete). */
    homes?: boolean;
    /** Services stopped. */
    services?: readonly string[];
}

export function replacementNotice(
    resource: string,
    oldHost: string | undefined,
    newHost: string | undefined,
    destroyed: Destroyed,
    deleteFirst = false,
): string {
    const parts = [
        destroyed.accounts?.length
            ? `removes the accounts ${destroyed.accounts.join(", ")} and ends their sessions${destroyed.homes ? ", with their homes" : " (homes kept)"}`
            : "",
        destroyed.paths?.length ? `removes ${destroyed.paths.join(", ")}` : "",
        destroyed.files?.length ? `puts back or removes ${destroyed.files.join(", ")}` : "",
        destroyed.services?.length ? `stops ${destroyed.services.join(", ")}` : "",
    ].filter(Boolean);
    const deletes = `the old one's delete on ${oldHost ?? "the old host"} ${parts.length ? parts.join("; ") : "removes nothing"}`;
    const built = `built on ${newHost ?? "the new host"}`;
    // deleteFirst: never two DHCP servers on one LAN, the old one goes before the new one starts.
    return `${resource}: replaced, another machine (another pinned host key): ${deleteFirst ? `first ${deletes}, then ${built}` : `${built}, then ${deletes}`}`;
}

/** A diff's `replaces` made visible: when there are any, the notice above as a line of the preview. */
export function announceReplacement(
    replaces: readonly string[],
    resource: string,
    hosts: { olds: { connection?: { host?: string } }; news: { connection?: { host?: string } } },
    destroyed: Destroyed,
    deleteFirst = false,
): void {
    if (!replaces.length) return;
    progress(replacementNotice(resource, hosts.olds.connection?.host, hosts.news.connection?.host, destroyed, deleteFirst));
}
