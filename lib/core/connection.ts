import { z } from "zod";
import { fingerprint, hostOrAddress, port, privateKey, unixUser } from "./fields";

/** How every resource reaches its host over SSH. The private key is a secret; the host key is always pinned. */
export const connectionSchema = z
    .object({
        /** Where to SSH. The same machine reached another way (same pinned host key) is an update; only another pinned key replaces the resource. */
        host: hostOrAddress,
        port: port.default(22),
        user: unixUser.default("root"),
        /** The private key, as a secret (`pulumi.secret(...)` or `pulumi config set --secret`). */
        privateKey: privateKey,
        /** The host's pinned host key, `SHA256:...` as `ssh-keygen -lf` prints it; a host with another key is refused. */
        hostKeyFingerprint: fingerprint,
        /** Run commands through `sudo -n` (required when `user` is not root). */
        sudo: z.boolean().default(false),
    })
    .strict();

export type Connection = z.infer<typeof connectionSchema>;
