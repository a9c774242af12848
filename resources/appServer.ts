import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { type AppServerState, convergeAppServer, readAppServer, removeAppServer } from "../lib/appserver/apply";
import { renderAppServerFiles, SERVICES } from "../lib/appserver/plan";
import { newSalt, sha512Crypt, sha512CryptMatches } from "../lib/appserver/shaCrypt";
import { type AppServerSpec, appServerSchema, validateAppServer } from "../lib/appserver/spec";
import { sha256Hex } from "../lib/core/sha256";
import type { ManagedFileRecord } from "../lib/engine/steps";
import type { ServiceState } from "../lib/host/observe";
import { anotherMachine, checkInputs, inputsDiffer, type ResourceArgs, requireValid, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";
import { progress } from "../lib/provider/progress";
import { announceReplacement } from "../lib/provider/replacement";
import { connectHost } from "../lib/ssh/pool";

/**
 * An application server of a school site: sshd with X11 forwarding for the thin clients'
 * sessions (lib/appserver/spec.ts says why that service), the site's users with their homes and
 * passwords, and ldminfod (socket-activated, read-only) telling the clients' chooser how loaded
 * it is; kept in shape over SSH through the converge engine.
 *
 * Passwords are given plain (as secrets); `check` replaces each by its SHA-512 crypt hash, keeping
 * the previous hash while the password is unchanged (so an unchanged password is no diff), so
 * only hashes are in the state (still secret: the engine copies the input's secretness) and on
 * the host; they reach chpasswd on stdin, never as an argument.
 */
export type AppServerArgs = ResourceArgs<z.input<typeof appServerSchema>>;

interface CheckedInputs extends AppServerSpec {
    managedBy: string;
    /** path -> content of every file this server manages: what `preview --diff` shows. */
    rendered: Record<string, string>;
    /**
     * user -> the first 12 hex digits of sha256(its password hash). The passwords are secrets, and
     * the CLI masks a secret before it diffs, so a changed password would show as an update with no
     * changed line; this says whose changed. It reveals nothing usable: the hash it digests has a
     * random 16-character salt.
     */
    passwordDigests: Record<string, string>;
}

interface Outputs extends CheckedInputs, AppServerState {}

const INPUT_KEYS = [...Object.keys(appServerSchema.shape), "managedBy", "rendered", "passwordDigests"];

/** Each password as its hash: the old hash while it still matches, else a new one with a fresh salt. */
export function hashPasswords(plain: Record<string, string>, oldHashes: Record<string, string> | undefined): Record<string, string> {
    return Object.fromEntries(
        Object.entries(plain).map(([user, password]) => {
            const old = oldHashes?.[user];
            return [user, old && sha512CryptMatches(password, old) ? old : sha512Crypt(password, newSalt())];
        }),
    );
}

export function passwordDigests(hashes: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(hashes).map(([user, hash]) => [user, sha256Hex(hash).slice(0, 12)]));
}

function parse(inputs: Record<string, unknown>): CheckedInputs {
    const { managedBy, rendered, passwordDigests: digests, ...rest } = withoutProvider(inputs);
    return {
        ...requireValid(managedBy as string, validateAppServer(rest)),
        managedBy: managedBy as string,
        rendered: rendered as Record<string, string>,
        passwordDigests: digests as Record<string, string>,
    };
}

function hostFor(spec: Pick<AppServerSpec, "connection"> & { managedBy?: string }) {
    return connectHost({ ...spec.connection }, spec.managedBy);
}

async function converge(inputs: CheckedInputs, previous: Outputs | undefined): Promise<Outputs> {
    const host = await hostFor(inputs);
    const state = await convergeAppServer(
        host,
        inputs,
        inputs.managedBy,
        {
            managedFiles: previous?.managedFiles ?? {},
            installedPackages: previous?.installedPackages ?? [],
            createdUsers: previous?.createdUsers ?? [],
            adoptedUsers: previous?.adoptedUsers ?? [],
            // A state from before passwordUsers: the users it had passwords for.
            passwordUsers: previous?.passwordUsers ?? Object.keys(previous?.passwords ?? {}),
        },
        () => hostFor(inputs),
    );
    return { ...inputs, ...state };
}

export const appServerProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        const { managedBy, ...rest } = withoutProvider(news);
        return checkInputs(news, rest, validateAppServer, (spec) => {
            const passwords = hashPasswords(spec.passwords, (olds as Partial<CheckedInputs>).passwords);
            return {
                ...spec,
                passwords,
                passwordDigests: passwordDigests(passwords),
                managedBy,
                rendered: Object.fromEntries(renderAppServerFiles(spec, managedBy as string).map((f) => [f.path, f.content])),
            };
        });
    },

    async diff(_id, olds: Outputs, news: CheckedInputs) {
        const changed = inputsDiffer(olds as unknown as Record<string, unknown>, news as unknown as Record<string, unknown>, INPUT_KEYS);
        const drifted =
            Object.entries(news.rendered ?? {}).some(([path, content]) => olds.managedFiles?.[path]?.sha256 !== sha256Hex(content)) ||
            SERVICES.some((s) => olds.services?.[s]?.active !== "active") ||
            (news.users ?? []).some((u) => !(olds.presentUsers ?? []).includes(u.name));
        const replaces = anotherMachine(olds, news);
        const destroyed = { accounts: olds.createdUsers ?? [], homes: olds.removeHomesOnDelete, files: Object.keys(olds.managedFiles ?? {}) };
        announceReplacement(replaces, olds.managedBy, { olds, news }, destroyed);
        return { changes: changed.length > 0 || drifted, replaces };
    },

    async create(inputs) {
        const checked = parse(inputs);
        const outs = await converge(checked, undefined);
        return { id: `${checked.connection.host}:${checked.connection.port}`, outs };
    },

    async update(_id, olds: Outputs, news) {
        return { outs: await converge(parse(news), olds) };
    },

    async read(id, props: Outputs) {
        const host = await hostFor(props);
        return { id, props: { ...props, ...(await readAppServer(host, props, props)) } };
    },

    async delete(_id, props: Outputs) {
        const host = await hostFor(props);
        progress(`${props.managedBy}: deleting from ${host.label}`);
        await removeAppServer(host, props, props, props.managedBy);
    },
};

export class AppServer extends LazyDynamicResource {
    declare readonly services: pulumi.Output<Record<string, ServiceState>>;
    declare readonly presentUsers: pulumi.Output<string[]>;
    declare readonly createdUsers: pulumi.Output<string[]>;
    declare readonly adoptedUsers: pulumi.Output<string[]>;
    declare readonly passwordUsers: pulumi.Output<string[]>;
    declare readonly managedFiles: pulumi.Output<Record<string, ManagedFileRecord>>;
    declare readonly installedPackages: pulumi.Output<string[]>;
    /** Its SSH host public keys ("TYPE BASE64"): the school stack pins them in the thin-client image. */
    declare readonly hostKeys: pulumi.Output<string[]>;

    constructor(name: string, args: AppServerArgs, opts?: pulumi.CustomResourceOptions) {
        const managedBy = `${pulumi.getProject()}/${pulumi.getStack()}: AppServer ${name}`;
        super(
            __filename,
            "appServerProvider",
            "AppServer",
            name,
            {
                ...(args as object),
                // Secret whatever the caller passed: the hashes that replace them stay secret too.
                passwords: args.passwords === undefined ? undefined : pulumi.secret(args.passwords),
                managedBy,
                services: undefined,
                presentUsers: undefined,
                createdUsers: undefined,
                adoptedUsers: undefined,
                passwordUsers: undefined,
                managedFiles: undefined,
                installedPackages: undefined,
                steps: undefined,
                hostKeys: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "passwords"] },
        );
    }
}
