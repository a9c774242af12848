import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { formatIssues, hostOrAddress, port, SECRET_VALUE, unixUser } from "../lib/core/fields";
import { fingerprintFromKnownHosts, privateKeyProblem } from "../lib/core/hostKey";
import { InventoryError, parsePlacedInventory } from "../lib/inventory";
import { nodeConflicts, type PlacedNode, placeNodes, type SiteNodeFields } from "../lib/site/siteNodes";
import { mungeKeyProblem } from "../lib/slurm/clusterSpec";

/**
 * How a stack reads its config: every `netboot:*` key is checked against the site's schema
 * before any resource is made. A key the site does not know (a typo, or a field it would not pass
 * on) is an error naming it, and every error is one line naming the key and the value.
 */

/** How a stack names a server in its config: the resource's connection, with file shortcuts. */
export const serverConfigSchema = z
    .object({
        host: hostOrAddress,
        port: port.optional(),
        user: unixUser.optional(),
        sudo: z.boolean().optional(),
        /** A file holding the private key; or set the key itself with `pulumi config set --secret privateKey`. */
        privateKeyFile: z.string().min(1).optional(),
        /** The pinned host key, as `ssh-keygen -lf` prints it; or take it from a known_hosts file. */
        hostKeyFingerprint: z.string().optional(),
        knownHostsFile: z.string().min(1).optional(),
    })
    .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;

/**
 * A config object whose fields the stack passes on, less the ones it sets itself (`setByStack`:
 * field -> where its value comes from): one given anyway is an error naming it, not silently
 * replaced. `secret` fields are shown as [secret].
 */
export function passedOn(setByStack: Record<string, string>, secret: readonly string[] = []) {
    return z.record(z.string(), z.unknown()).superRefine((fields, ctx) => {
        for (const key of Object.keys(fields)) {
            if (!Object.hasOwn(setByStack, key)) continue;
            ctx.addIssue({
                code: "custom",
                path: [key],
                input: secret.includes(key) ? SECRET_VALUE : fields[key],
                message: `is set by the stack from ${setByStack[key]}; remove it here`,
            });
        }
    });
}

/**
 * The connection of a DHCP scope in config: its own `server`, else the site's server; a Windows
 * scope has no default: its PowerShell would be sent to the LTSP server.
 */
export function scopeConnection(
    scope: { kind?: unknown; name?: unknown; server?: ServerConfig },
    index: number,
    siteConnection: ReturnType<typeof connectionFrom>,
    config: pulumi.Config,
) {
    const field = `netboot:dhcpScopes[${index}].server`;
    if (scope.server) return connectionFrom(scope.server, config, field);
    if (scope.kind === "windows") {
        throw configError(
            `${field}: is required for scope "${String(scope.name)}" of kind "windows": it names the Windows DHCP server (without it the scope's PowerShell would go to the LTSP server)`,
        );
    }
    return siteConnection;
}

/** A config error as Pulumi prints it: the message alone, no stack trace. */
export function configError(message: string): Error {
    return new pulumi.RunError(message);
}

/**
 * Whether the stack file holds `key` (namespace:name) encrypted: @pulumi/pulumi's own test of the
 * keys the language host lists in PULUMI_CONFIG_SECRET_KEYS (runtime/config.js exports it; it is
 * marked internal, so its type declaration leaves it out).
 */
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret: (key: string) => boolean }).isConfigSecret;

/**
 * The secret keys (of `secretKeys`) the stack file holds in plain text, each as one line with the
 * command that stores it as a secret. The value is never part of the message: it is the secret.
 */
export function plainSecretFailures(secretKeys: readonly string[]): string[] {
    const config = pulumi.runtime.allConfig();
    return secretKeys
        .map((name) => `netboot:${name}`)
        .filter((key) => config[key] !== undefined && !isConfigSecret(key))
        .map(
            (key) =>
                `${key} is stored in plain text in Pulumi.${pulumi.getStack() || "<stack>"}.yaml; set it as a secret: pulumi config set --secret ${key} <value>`,
        );
}

/**
 * The checks of secret config values that the stack can make at preview (the resources check
 * them again): each message names the key and shows the value as [secret].
 */
const SECRET_CHECKS: Record<string, (value: string) => string | undefined> = {
    privateKey: privateKeyProblem,
    mungeKey: mungeKeyProblem,
};

export function secretValueFailures(secretKeys: readonly string[]): string[] {
    const config = pulumi.runtime.allConfig();
    return secretKeys.flatMap((name) => {
        const value = config[`netboot:${name}`];
        const problem = value === undefined ? undefined : SECRET_CHECKS[name]?.(value);
        return problem ? [`netboot:${name}: [secret] ${problem}`] : [];
    });
}

/**
 * Reads and checks the stack's whole `netboot` namespace against `schema` (a strict object whose
 * keys are the config keys without the `netboot:` prefix). Secrets are checked for being stored
 * as secrets (a plain one is refused, never shown), then by SECRET_CHECKS where a check of their own exists.
 */
export function readSiteConfig<S extends z.ZodType>(schema: S, secretKeys: readonly string[] = []): z.infer<S> {
    const secretFailures = plainSecretFailures(secretKeys);
    if (!secretFailures.length) secretFailures.push(...secretValueFailures(secretKeys));
    if (secretFailures.length) throw configError(`stack config: ${secretFailures.join("; ")}`);
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        const [namespace, name] = key.split(":", 2);
        if (namespace !== "netboot" || secretKeys.includes(name)) continue;
        try {
            raw[name] = JSON.parse(value);
        } catch {
            raw[name] = value; // a plain string
        }
    }
    const result = schema.safeParse(raw, { reportInput: true });
    if (!result.success) {
        const failures = result.error.issues.map((issue) =>
            issue.path.length === 0 && issue.code === "unrecognized_keys"
                ? `unknown key(s) ${issue.keys.map((k) => `netboot:${k}`).join(", ")} (a typo, or not a setting of site "${String(raw.site ?? "lab")}")`
                : `netboot:${formatIssues([issue])[0].reason}`,
        );
        throw configError(`stack config: ${failures.join("; ")}`);
    }
    return result.data;
}

function expand(path: string): string {
    return path.startsWith("~/") ? homedir() + path.slice(1) : path;
}

function readConfigFile(field: string, path: string): string {
    try {
        return readFileSync(expand(path), "utf8");
    } catch (err) {
        throw configError(`${field}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
}

/**
 * The connection inputs for a server (`field` names it in messages): the key only ever as a secret
 * Output, the host key always pinned. A missing pin is an error here, before anything connects.
 */
export function connectionFrom(server: ServerConfig, config: pulumi.Config, field = "netboot:server") {
    const privateKey = server.privateKeyFile
        ? pulumi.secret(readConfigFile(`${field}.privateKeyFile`, server.privateKeyFile))
        : config.requireSecret("privateKey");
    let hostKeyFingerprint = server.hostKeyFingerprint;
    if (!hostKeyFingerprint && server.knownHostsFile) {
        const knownHosts = readConfigFile(`${field}.knownHostsFile`, server.knownHostsFile);
        hostKeyFingerprint = fingerprintFromKnownHosts(knownHosts, server.host, server.port ?? 22);
        if (!hostKeyFingerprint) {
            const entry = (server.port ?? 22) === 22 ? server.host : `[${server.host}]:${server.port}`;
            throw configError(`${field}.knownHostsFile: "${server.knownHostsFile}" has no key for ${entry}`);
        }
    }
    if (!hostKeyFingerprint) {
        throw configError(
            `${field}: "${server.host}" has neither hostKeyFingerprint (ssh-keygen -lf) nor knownHostsFile: host keys are always pinned`,
        );
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

/**
 * The clients of `netboot:inventoryFile` (CSV or YAML), the path relative to the project whatever
 * directory the program runs in; `file` as config gives it, and each client's line in it.
 */
export function readInventoryFile(file: string, images: string[]) {
    let text: string;
    try {
        text = readFileSync(isAbsolute(file) ? file : resolve(pulumi.runtime.getRootDirectory(), file), "utf8");
    } catch (err) {
        throw configError(`netboot:inventoryFile: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
        // Named as config names it (relative to the project), so each problem reads `inventory/x.csv line 4, ...`.
        return { file, ...parsePlacedInventory(file, text, { images }) };
    } catch (err) {
        if (!(err instanceof InventoryError)) throw configError(`netboot:inventoryFile: ${(err as Error).message}`);
        const shown = err.issues.slice(0, INVENTORY_ISSUES_SHOWN).map((i) => i.message);
        if (err.issues.length > shown.length) shown.push(`... and ${err.issues.length - shown.length} more`);
        throw configError(`netboot:inventoryFile: ${shown.join("; ")}`);
    }
}

/** How many of an inventory's problems one error shows (a file of 1400 rows may have them all wrong). */
const INVENTORY_ISSUES_SHOWN = 20;

/**
 * A site's clients: `netboot:nodes`, then the inventory file's, each with its place for messages.
 * Two that share a MAC, host name or address fail here, one line each naming both.
 */
export function siteNodes<I extends SiteNodeFields, R extends SiteNodeFields>(
    inline: readonly I[],
    inventory: { file: string; nodes: readonly R[]; lines: readonly number[] } | undefined,
): PlacedNode<I | R>[] {
    const placed = placeNodes(inline, inventory);
    const conflicts = nodeConflicts(placed);
    if (conflicts.length) throw configError(`stack config: ${conflicts.join("; ")}`);
    return placed;
}
