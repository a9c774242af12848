import { createHash } from "node:crypto";

/** Hex SHA-256, as sha256sum prints it on the hosts: how managed files are compared. */
export function sha256Hex(content: string | Buffer): string {
    return createHash("sha256").update(content).digest("hex");
}
