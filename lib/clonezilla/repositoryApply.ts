import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../core/sha256";
import { writeFile } from "../engine/converge";
import type { Host } from "../engine/host";
import { installPackages } from "../engine/services";
import { closeDoorArgs } from "../keydoor/door";
import { remoteScript } from "../remote/scripts";
import { OCS_DOOR, ocsDoor, PATHS, parseSetupOutput, type RepositoryFacts, type RepositorySpec, setupArgs, sshdDropIn } from "./repositorySpec";

/** The server side of the Clonezilla repository, over SSH: account, directories, key pair, sshd. */

const SETUP_SCRIPT = readFileSync(join(__dirname, "repository-setup.sh"), "utf8");

export interface RepositoryRecord extends RepositoryFacts {
    /** sha256 of the sshd drop-in on the server. */
    sshdConfig: string;
}

export async function ensureRepository(host: Host, spec: RepositorySpec, aptProxy?: string): Promise<RepositoryRecord> {
    await installPackages(host, ["openssh-server"], aptProxy);
    const facts = parseSetupOutput(await host.mutate(`Clonezilla repository ${spec.repository}`, SETUP_SCRIPT, setupArgs(spec)));
    // The key's door for the clients: the image has no key; a PC `clients` names fetches it for its job.
    const door = ocsDoor(spec);
    await host.mutate("the repository key's door", remoteScript("key-door-setup"), door.setupArgs);
    for (const file of door.files) {
        if ((await host.readFile(file.path))?.toString("utf8") !== file.content) await writeFile(host, file);
    }
    const wanted = sshdDropIn(spec);
    const current = await host.readFile(PATHS.sshdDropIn);
    if (current?.toString("utf8") !== wanted) {
        await writeFile(host, { path: `${PATHS.sshdDropIn}.netboot-new`, content: wanted, mode: "0644", sha256: sha256Hex(wanted) });
        await host.mutate(`install ${PATHS.sshdDropIn}, sshd -t, reload ssh`, remoteScript("clonezilla-install-dropin"), [PATHS.sshdDropIn]);
    }
    return { ...facts, sshdConfig: sha256Hex(wanted) };
}

export async function repositoryFacts(host: Host, spec: Pick<RepositorySpec, "repository">): Promise<RepositoryRecord> {
    const out = await host.run("read Clonezilla repository", remoteScript("clonezilla-facts"), [
        PATHS.keyDir,
        spec.repository,
        PATHS.imagesDir,
        PATHS.sshdDropIn,
    ]);
    const values = Object.fromEntries(
        out
            .split("\n")
            .map((l) => /^(\w+)=(.*)$/.exec(l))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => [m[1], m[2].trim()]),
    );
    return {
        keyFingerprint: values.keyFingerprint ?? "missing",
        hostKeyFingerprint: values.hostKeyFingerprint ?? "missing",
        images: (values.images ?? "").split(/\s+/).filter(Boolean),
        sshdConfig: values.sshdConfig ?? "missing",
    };
}

/**
 * Delete: the account can no longer log in (sshd drop-in and key pair gone) and the key's door
 * closes. The images and the account that owns them stay: they are data, not configuration.
 */
export async function removeRepository(host: Host): Promise<void> {
    await host.mutate("remove Clonezilla repository access", remoteScript("clonezilla-remove"), [PATHS.sshdDropIn, PATHS.keyDir]);
    await host.mutate(`close the ${OCS_DOOR} key door`, remoteScript("key-door-remove"), closeDoorArgs(OCS_DOOR));
}
