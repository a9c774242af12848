import { createHash } from "node:crypto";
import { utils } from "ssh2";

/** OpenSSH's fingerprint form: "SHA256:" + unpadded base64 of the SHA-256 of the key blob. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function sha256Fingerprint(keyBlob: Buffer): string {
    return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * The pinned fingerprint of `host` from an OpenSSH known_hosts file (plain host names only,
 * hashed entries cannot be matched without the name, which is the point of hashing them).
 */
export function fingerprintFromKnownHosts(knownHosts: string, host: string, port = 22): string | undefined {
    const wanted = port === 22 ? [host] : [`[${host}]:${port}`];
    for (const line of knownHosts.split("\n")) {
        const fields = line.trim().split(/\s+/);
        if (fields.length < 3 || fields[0].startsWith("#") || fields[0].startsWith("@")) continue;
        if (!fields[0].split(",").some((name) => wanted.includes(name))) continue;
        return sha256Fingerprint(Buffer.from(fields[2], "base64"));
    }
    return undefined;
}

/** Whether `key` is an unencrypted private key that ssh2 can use (the message never quotes the key). */
export function privateKeyProblem(key: string): string | undefined {
    const parsed = utils.parseKey(key);
    if (parsed instanceof Error) return `does not parse as an SSH private key (${parsed.message})`;
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!first?.isPrivateKey()) return "is a public key, not a private key";
    return undefined;
}
