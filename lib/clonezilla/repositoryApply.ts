import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../core/sha256";
import { ensurePackages } from "../host/packages";
import type { RemoteHost } from "../ssh/remoteHost";
import { PATHS, parseSetupOutput, type RepositoryFacts, type RepositorySpec, setupArgs, sshdDropIn } from "./repositorySpec";

/** The server side of the Clonezilla repository, over SSH: account, directories, key pair, sshd. */

const SETUP_SCRIPT = readFileSync(join(__dirname, "repository-setup.sh"), "utf8");

/** Read-only: the same facts the setup prints, for refresh. */
const FACTS_SCRIPT = `set -u
keys=$1 repo=$2 images=$3 dropin=$4
fp() { [ -f "$1" ] && ssh-keygen -lf "$1" | cut -d' ' -f2 || echo missing; }
printf 'keyFingerprint=%s\\n' "$(fp "$keys/client/id_ed25519.pub")"
printf 'hostKeyFingerprint=%s\\n' "$(fp /etc/ssh/ssh_host_ed25519_key.pub)"
printf 'images=%s\\n' "$(find "$repo/$images" -mindepth 2 -maxdepth 2 -name disk -printf '%h\\n' 2>/dev/null | xargs -r -n1 basename | sort | tr '\\n' ' ')"
printf 'sshdConfig=%s\\n' "$( [ -f "$dropin" ] && sha256sum "$dropin" | cut -d' ' -f1 || echo missing)"`;

/** Puts the drop-in in place only if sshd accepts the whole configuration with it; else the old one comes back. */
const INSTALL_DROPIN_SCRIPT = `set -eu
dropin=$1
if [ -f "$dropin" ]; then cp -p "$dropin" "$dropin.netboot-old"; else rm -f "$dropin.netboot-old"; fi
mv -f "$dropin.netboot-new" "$dropin"
if ! out=$(sshd -t 2>&1); then
  if [ -f "$dropin.netboot-old" ]; then mv -f "$dropin.netboot-old" "$dropin"; else rm -f "$dropin"; fi
  echo "sshd -t rejects the repository's sshd configuration: $out" >&2; exit 1
fi
rm -f "$dropin.netboot-old"
# A reload keeps every open session (including ours); new logins see the new configuration.
systemctl reload ssh`;

export interface RepositoryRecord extends RepositoryFacts {
    /** sha256 of the sshd drop-in on the server. */
    sshdConfig: string;
}

export async function ensureRepository(host: RemoteHost, spec: RepositorySpec, aptProxy?: string): Promise<RepositoryRecord> {
    await ensurePackages(host, ["openssh-server"], aptProxy);
    const facts = parseSetupOutput(await host.mutate(`Clonezilla repository ${spec.repository}`, SETUP_SCRIPT, setupArgs(spec)));
    const wanted = sshdDropIn(spec);
    const current = await host.readFile(PATHS.sshdDropIn);
    if (current?.toString("utf8") !== wanted) {
        await host.writeFileAtomic(`${PATHS.sshdDropIn}.netboot-new`, wanted, "0644");
        await host.mutate(`install ${PATHS.sshdDropIn}, sshd -t, reload ssh`, INSTALL_DROPIN_SCRIPT, [PATHS.sshdDropIn]);
    }
    return { ...facts, sshdConfig: sha256Hex(wanted) };
}

export async function repositoryFacts(host: RemoteHost, spec: Pick<RepositorySpec, "repository">): Promise<RepositoryRecord> {
    const out = await host.run("read Clonezilla repository", FACTS_SCRIPT, [PATHS.keyDir, spec.repository, PATHS.imagesDir, PATHS.sshdDropIn]);
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
 * Delete: the account can no longer log in (sshd drop-in and key pair gone). The images and the
 * account that owns them stay: they are data, not configuration.
 */
export async function removeRepository(host: RemoteHost): Promise<void> {
    await host.mutate("remove Clonezilla repository access", 'set -eu; rm -f -- "$1"; rm -rf -- "$2"; sshd -t; systemctl reload ssh', [
        PATHS.sshdDropIn,
        PATHS.keyDir,
    ]);
}
