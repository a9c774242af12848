import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { sha256Hex } from "../lib/core/sha256";
import { othersThingsText } from "../lib/engine/converge";
import type { ManagedFileRecord } from "../lib/engine/steps";
import type { ServiceState } from "../lib/host/observe";
import { convergeServer, readServer, removeServer, type ServerRecord, type ServerState } from "../lib/ltsp/serverApply";
import { renderServerFiles, serverServices } from "../lib/ltsp/serverPlan";
import { type LtspServerSpec, ltspServerSchema, validateLtspServer } from "../lib/ltsp/serverSpec";
import { anotherMachine, checkInputs, inputsDiffer, type ResourceArgs, requireValid, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";
import { progress } from "../lib/provider/progress";
import { announceReplacement } from "../lib/provider/replacement";
import { claimDhcp } from "../lib/site/dhcpClaims";
import { connectHost } from "../lib/ssh/pool";

/**
 * An LTSP 23 server: packages, /etc/ltsp/ltsp.conf, the dnsmasq configuration for its LAN
 * (full DHCP, proxyDHCP or TFTP only), the iPXE menu and ltsp.img, kept in shape over SSH.
 */
export type LtspServerArgs = ResourceArgs<z.input<typeof ltspServerSchema>>;

/** The inputs as stored: validated, defaults filled in, rendered files added for reviewable diffs. */
interface CheckedInputs extends LtspServerSpec {
    managedBy: string;
    /** path -> content of every file this server manages: what `preview --diff` shows. */
    rendered: Record<string, string>;
}

interface Outputs extends CheckedInputs, ServerState {}

const INPUT_KEYS = [...Object.keys(ltspServerSchema.shape), "managedBy", "rendered"];

function parse(inputs: Record<string, unknown>): CheckedInputs {
    const { managedBy, rendered, ...rest } = withoutProvider(inputs);
    return {
        ...requireValid(managedBy as string, validateLtspServer(rest)),
        managedBy: managedBy as string,
        rendered: rendered as Record<string, string>,
    };
}

async function hostFor(spec: LtspServerSpec & { managedBy: string }) {
    return connectHost({ ...spec.connection }, spec.managedBy);
}

async function converge(inputs: CheckedInputs, previous: ServerRecord, previousImages: readonly string[]): Promise<Outputs> {
    const host = await hostFor(inputs);
    const state = await convergeServer(host, inputs, inputs.managedBy, previous, previousImages, () => hostFor(inputs));
    return { ...inputs, ...state };
}

export const ltspServerProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        const { managedBy, ...rest } = withoutProvider(news);
        return checkInputs(news, rest, validateLtspServer, (spec) => ({
            ...spec,
            managedBy,
            rendered: Object.fromEntries(renderServerFiles(spec, managedBy as string).map((f) => [f.path, f.content])),
        }));
    },

    async diff(_id, olds: Outputs, news: CheckedInputs) {
        const changed = inputsDiffer(olds as unknown as Record<string, unknown>, news as unknown as Record<string, unknown>, INPUT_KEYS);
        const drifted =
            Object.entries(news.rendered ?? {}).some(([path, content]) => olds.managedFiles?.[path]?.sha256 !== sha256Hex(content)) ||
            serverServices(news).some((s) => olds.services?.[s]?.active !== "active" || olds.services?.[s]?.enabled !== "enabled") ||
            Object.values(olds.bootFiles ?? {}).some((sum) => sum === null);
        const replaces = anotherMachine(olds, news);
        // What the last refresh saw another stack own is refused here, at preview, as `up` would refuse it.
        if ((changed.length > 0 || drifted) && !replaces.length && Object.keys(olds.takenBy ?? {}).length) {
            throw new Error(
                `${olds.managedBy}: refresh found that ${othersThingsText(olds.takenBy!)} on ${olds.connection.host}; ` +
                    `this stack may not change what another stack manages`,
            );
        }
        const destroyed = { files: Object.keys(olds.managedFiles ?? {}), paths: olds.generatedFiles ?? [] };
        announceReplacement(replaces, olds.managedBy, { olds, news }, destroyed);
        return { changes: changed.length > 0 || drifted, replaces };
    },

    async create(inputs) {
        const checked = parse(inputs);
        const outs = await converge(checked, { managedFiles: {}, generatedFiles: [], installedPackages: [] }, []);
        return { id: `${checked.connection.host}:${checked.connection.port}`, outs };
    },

    async update(_id, olds: Outputs, news) {
        return { outs: await converge(parse(news), olds, olds.images ?? []) };
    },

    /** Refresh: what the host really has, so hand edits and stopped services show as drift. */
    async read(id, props: Outputs) {
        const host = await hostFor(props);
        const state = await readServer(host, props.managedFiles ?? {}, props.managedBy, Object.keys(props.rendered ?? {}));
        return { id, props: { ...props, ...state } };
    },

    async delete(_id, props: Outputs) {
        const host = await hostFor(props);
        progress(`${props.managedBy}: deleting from ${host.label}`);
        await removeServer(host, props, props.removePackagesOnDelete, props.managedBy);
    },
};

export class LtspServer extends LazyDynamicResource {
    declare readonly address: pulumi.Output<string>;
    declare readonly tftpRoot: pulumi.Output<string>;
    declare readonly ltspVersion: pulumi.Output<string>;
    declare readonly managedFiles: pulumi.Output<Record<string, ManagedFileRecord>>;
    declare readonly services: pulumi.Output<Record<string, ServiceState>>;
    declare readonly bootFiles: pulumi.Output<Record<string, string | null>>;

    constructor(name: string, args: LtspServerArgs, opts?: pulumi.CustomResourceOptions) {
        const managedBy = `${pulumi.getProject()}/${pulumi.getStack()}: LtspServer ${name}`;
        super(
            __filename,
            "ltspServerProvider",
            "LtspServer",
            name,
            {
                ...(args as object),
                managedBy,
                address: undefined,
                tftpRoot: undefined,
                ltspVersion: undefined,
                managedFiles: undefined,
                services: undefined,
                bootFiles: undefined,
            },
            opts,
        );
        // Conflicts with the program's other DHCP servers fail the preview here, naming both.
        pulumi.all([pulumi.output(args.connection).apply((c) => c.host), args.lan, args.dhcp]).apply(([host, lan, dhcp]) => {
            try {
                claimDhcp({
                    owner: `LtspServer ${name}`,
                    host,
                    subnet: lan.address,
                    mode: dhcp.mode,
                    range: dhcp.rangeStart && dhcp.rangeEnd ? [dhcp.rangeStart, dhcp.rangeEnd] : undefined,
                });
            } catch (err) {
                throw new pulumi.RunError((err as Error).message);
            }
        });
    }
}
