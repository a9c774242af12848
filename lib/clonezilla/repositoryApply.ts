import { converge, journalFor, restoreOriginal } from "../engine/converge";
import type { Host } from "../engine/host";
import type { ManagedFileRecord } from "../engine/steps";
import { observeHost } from "../host/observe";
import { closeDoorArgs } from "../keydoor/door";
import { remoteScript } from "../remote/scripts";
import { OBSERVED, OCS_DOOR, PATHS, parseFacts, planRepository, type RepositoryFacts, type RepositorySpec } from "./repositorySpec";

/** The server side of the Clonezilla repository, through the engine: account, directories, key pair, its door, sshd. */

export interface RepositoryRecord extends RepositoryFacts {
    /** The files the resource manages (the sshd drop-in, the door's serve and allow), for delete. */
    managedFiles: Record<string, ManagedFileRecord>;
}

export async function ensureRepository(
    host: Host,
    spec: RepositorySpec,
    aptProxy: string | undefined,
    managed: Record<string, ManagedFileRecord>,
    owner?: string,
): Promise<RepositoryRecord> {
    const seen = await observeHost(host, { packages: OBSERVED.packages, files: OBSERVED.files() });
    const steps = planRepository(spec, aptProxy, seen);
    const result = await converge(host, steps, { journal: journalFor(`ClonezillaRepository ${spec.repository}`), managed, owner });
    const facts = await repositoryFacts(host, spec);
    if (!/^SHA256:/.test(facts.keyFingerprint) || !/^SHA256:/.test(facts.hostKeyFingerprint)) {
        throw new Error(`the Clonezilla repository on ${spec.connection.host} has no key pair or no ed25519 host key after its setup`);
    }
    return { ...facts, managedFiles: result.managedFiles };
}

export async function repositoryFacts(host: Host, spec: Pick<RepositorySpec, "repository">): Promise<RepositoryFacts> {
    const out = await host.run("read Clonezilla repository", remoteScript("clonezilla-facts"), [
        PATHS.keyDir,
        spec.repository,
        PATHS.imagesDir,
        PATHS.sshdDropIn,
    ]);
    return parseFacts(out);
}

/**
 * Delete: the managed files go back as they were (the sshd drop-in, the door's), the account can
 * no longer log in (its key pair goes) and the key's door closes. The images and the account that
 * owns them stay: they are data, not configuration. A repository recorded before the engine
 * managed its files has no record of the drop-in: it goes by name.
 */
export async function removeRepository(host: Host, managed: Record<string, ManagedFileRecord>, owner?: string): Promise<void> {
    for (const [path, record] of Object.entries(managed)) await restoreOriginal(host, path, record, owner);
    const legacyDropIn = managed[PATHS.sshdDropIn] ? [] : [PATHS.sshdDropIn];
    await host.mutate("remove Clonezilla repository access", remoteScript("clonezilla-remove"), [PATHS.keyDir, ...legacyDropIn]);
    await host.mutate(`close the ${OCS_DOOR} key door`, remoteScript("key-door-remove"), closeDoorArgs(OCS_DOOR));
}
