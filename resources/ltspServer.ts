import * as pulumi from "@pulumi/pulumi";
import { sha256Hex } from "../lib/core/sha256";
import { ManagedFileRecord } from "../lib/host/fileTransaction";
import { ServiceState, observeHost } from "../lib/host/observe";
import { ServerRecord, applyServer, removeServer } from "../lib/ltsp/serverApply";
import { IPXE_FILES, LTSP_IMG, TFTP_ROOT, renderServerFiles, serverServices } from "../lib/ltsp/serverPlan";
import { LtspServerSpec, ltspServerSchema, validateLtspServer } from "../lib/ltsp/serverSpec";
import { ResourceArgs, checkInputs, inputsDiffer, requireValid, withoutProvider } from "../lib/provider/inputs";
import { lazyProvider } from "../lib/provider/lazy";
import { progress } from "../lib/provider/progress";
import { claimDhcp } from "../lib/site/dhcpClaims";
import { connectHost } from "../lib/ssh/pool";
import { parseSubnet } from "../lib/core/fields";
import { z } from "zod";

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

interface Outputs extends CheckedInputs, ServerRecord {
    address: string;
    tftpRoot: string;
    ltspVersion: string;
    services: Record<string, ServiceState>;
    /** SHA-256 of the iPXE menu, binaries and ltsp.img in TFTP, null when missing. */
    bootFiles: Record<string, string | null>;
    /** What the managed files hold on the host (refresh shows hand edits here). */
    files: Record<string, string | null>;
}

const INPUT_KEYS = [...Object.keys(ltspServerSchema.shape), "managedBy", "rendered"];

function parse(inputs: Record<string, unknown>): CheckedInputs {
    const { managedBy, rendered, ...rest } = withoutProvider(inputs);
    return { ...requireValid(managedBy as string, validateLtspServer(rest)), managedBy: managedBy as string, rendered: rendered as Record<string, string> };
}

async function hostFor(spec: LtspServerSpec) {
    return connectHost({ ...spec.connection });
}

async function converge(inputs: CheckedInputs, previous: ServerRecord, previousImages: readonly string[]): Promise<Outputs> {
    const host = await hostFor(inputs);
    const imagesChanged = [...previousImages].sort().join() !== [...inputs.images].sort().join();
    const result = await applyServer(host, inputs, inputs.managedBy, previous, imagesChanged);
    const bootFiles = Object.fromEntries([...IPXE_FILES, LTSP_IMG].map((p) => [p, result.observation.files[p] ?? null]));
    return {
        ...inputs,
        managedFiles: result.managedFiles,
        generatedFiles: result.generatedFiles,
        installedPackages: result.installedPackages,
        nulLinks: result.nulLinks,
        address: parseSubnet(inputs.lan.address)!.address,
        tftpRoot: TFTP_ROOT,
        ltspVersion: result.observation.packages.ltsp ?? "",
        services: result.observation.services,
        bootFiles,
        files: Object.fromEntries(result.files.map((f) => [f.path, f.content])),
    };
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
        // Another host is another server: build the new one, then remove the old.
        const replaces = olds.connection?.host !== news.connection?.host ? ["connection.host"] : [];
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
        const managed = Object.keys(props.managedFiles ?? {});
        const observed = await observeHost(host, { files: [...managed, ...IPXE_FILES, LTSP_IMG], services: serverServices(props), packages: ["ltsp"] });
        const managedFiles: Record<string, ManagedFileRecord> = {};
        const files: Record<string, string | null> = {};
        for (const path of managed) {
            managedFiles[path] = { ...props.managedFiles[path], sha256: observed.files[path] ?? "missing" };
            const content = observed.files[path] === null ? undefined : await host.readFile(path);
            files[path] = content === undefined ? null : content.toString("utf8");
        }
        const bootFiles = Object.fromEntries([...IPXE_FILES, LTSP_IMG].map((p) => [p, observed.files[p] ?? null]));
        return {
            id,
            props: { ...props, managedFiles, files, bootFiles, services: observed.services, ltspVersion: observed.packages.ltsp ?? "" },
        };
    },

    async delete(_id, props: Outputs) {
        const host = await hostFor(props);
        progress(`${props.managedBy}: deleting from ${host.label}`);
        await removeServer(host, props, props.removePackagesOnDelete, props.managedBy);
    },
};

export class LtspServer extends pulumi.dynamic.Resource {
    declare readonly address: pulumi.Output<string>;
    declare readonly tftpRoot: pulumi.Output<string>;
    declare readonly ltspVersion: pulumi.Output<string>;
    declare readonly managedFiles: pulumi.Output<Record<string, ManagedFileRecord>>;
    declare readonly services: pulumi.Output<Record<string, ServiceState>>;
    declare readonly bootFiles: pulumi.Output<Record<string, string | null>>;

    constructor(name: string, args: LtspServerArgs, opts?: pulumi.CustomResourceOptions) {
        const managedBy = `${pulumi.getProject()}/${pulumi.getStack()}: LtspServer ${name}`;
        super(
            lazyProvider(__filename, "ltspServerProvider", ["check", "diff", "read", "update", "delete"]),
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
            "netboot",
            "LtspServer",
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
