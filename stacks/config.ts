import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { fingerprintFromKnownHosts } from "../lib/core/hostKey";

/** How a stack names a server in its config: the resource's connection, with file shortcuts. */
export interface ServerConfig {
    host: string;
    port?: number;
    user?: string;
    sudo?: boolean;
    /** A file holding the private key; or set the key itself with `pulumi config set --secret privateKey`. */
    privateKeyFile?: string;
    /** The pinned host key, as `ssh-keygen -lf` prints it; or take it from a known_hosts file. */
    hostKeyFingerprint?: string;
    knownHostsFile?: string;
}

function expand(path: string): string {
    return path.startsWith("~/") ? homedir() + path.slice(1) : path;
}

/**
 * The connection inputs for a server: the key only ever as a secret Output, the host key always
 * pinned. A missing pin is an error here, before anything connects.
 */
export function connectionFrom(server: ServerConfig, config: pulumi.Config) {
    let privateKey: pulumi.Output<string>;
    if (server.privateKeyFile) {
        privateKey = pulumi.secret(readFileSync(expand(server.privateKeyFile), "utf8"));
    } else {
        privateKey = config.requireSecret("privateKey");
    }
    let hostKeyFingerprint = server.hostKeyFingerprint;
    if (!hostKeyFingerprint && server.knownHostsFile) {
        const knownHosts = readFileSync(expand(server.knownHostsFile), "utf8");
        hostKeyFingerprint = fingerprintFromKnownHosts(knownHosts, server.host, server.port ?? 22);
        if (!hostKeyFingerprint) {
            throw new Error(`server.knownHostsFile ${server.knownHostsFile} has no key for ${server.host}`);
        }
    }
    if (!hostKeyFingerprint) {
        throw new Error(`server ${server.host}: set hostKeyFingerprint (ssh-keygen -lf) or knownHostsFile: host keys are always pinned`);
    }
    return {
        host: server.host,
        port: server.port,
        user: server.user,
        sudo: server.sudo,
        privateKey,
        hostKeyFingerprint,
    };
}
