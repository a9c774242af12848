import { z } from "zod";
import { fingerprint, hostOrAddress, port, privateKey, unixUser } from "./fields";

/** How every resource reaches its host over SSH. The private key is a secret; the host key is always pinned. */
export const connectionSchema = z
    .object({
        host: hostOrAddress,
        port: port.default(22),
        user: unixUser.default("root"),
        privateKey: privateKey,
        hostKeyFingerprint: fingerprint,
        sudo: z.boolean().default(false),
    })
    .strict();

export type Connection = z.infer<typeof connectionSchema>;
