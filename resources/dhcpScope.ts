import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { sha256Hex } from "../lib/core/sha256";
import { linuxBackend } from "../lib/dhcp/linuxBackends";
import { applyScope, readScope, removalsAtPreview, removeScope } from "../lib/dhcp/scopeApply";
import { type ScopeSpec, scopeSchema, validateScope } from "../lib/dhcp/scopeSpec";
import type { WindowsOwned } from "../lib/dhcp/windows/actions";
import { desiredWindowsScope } from "../lib/dhcp/windows/desired";
import { windowsReplaceKeys } from "../lib/dhcp/windows/replace";
import type { WindowsState } from "../lib/dhcp/windows/state";
import type { ManagedFileRecord } from "../lib/engine/steps";
import type { ServiceState } from "../lib/host/observe";
import { anotherMachine, checkInputs, inputsDiffer, type ResourceArgs, requireValid, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";
import { progress } from "../lib/provider/progress";
import { announceReplacement } from "../lib/provider/replacement";
import { claimDhcp } from "../lib/site/dhcpClaims";
import { connectHost } from "../lib/ssh/pool";

/**
 * A DHCP scope that sends PXE clients to the boot server: subnet, range, options,
 * reservations for the listed nodes, and the boot files (BIOS, UEFI, and the iPXE menu for
 * clients already running iPXE). Served by dnsmasq, ISC dhcpd or Kea over SSH, each config
 * checked by the daemon before it is used, or by a Windows DHCP Server through PowerShell.
 */
export type DhcpScopeArgs = ResourceArgs<z.input<typeof scopeSchema>> & { aptProxy?: pulumi.Input<string> };

interface CheckedInputs extends ScopeSpec {
    aptProxy?: string;
    managedBy: string;
    /** What the server will be told: config files (Linux) or the desired scope (Windows). */
    rendered: Record<string, string>;
}

interface Outputs extends CheckedInputs {
    managedFiles: Record<string, ManagedFileRecord>;
    service: ServiceState | null;
    /** Windows: cmdlets a refresh found still needed (empty when the server matches). */
    pendingCommands: string[];
    /** Windows: those of pendingCommands that remove something (shown by the preview after a refresh). */
    pendingRemovals: string[];
    /** Windows: what this resource created on the server; update and delete remove nothing else. */
    windowsOwned?: WindowsOwned;
    /** Windows: the scope as the last refresh read it (a preview plans a config change against it). */
    observedWindows?: WindowsState;
}

const KEYS = [...Object.keys(scopeSchema.shape), "aptProxy", "managedBy", "rendered"];

function render(spec: ScopeSpec, managedBy: string): Record<string, string> {
    if (spec.kind === "windows") {
        const desired = desiredWindowsScope(spec);
        return { "windows-scope.json": JSON.stringify({ ...desired, options: Object.fromEntries(desired.options) }, null, 2) };
    }
    return Object.fromEntries(linuxBackend(spec, managedBy).files.map((f) => [f.path, f.content]));
}

function parse(inputs: Record<string, unknown>): CheckedInputs {
    const { managedBy, rendered, aptProxy, ...rest } = withoutProvider(inputs);
    return {
        ...requireValid(managedBy as string, validateScope(rest)),
        aptProxy: aptProxy as string | undefined,
        managedBy: managedBy as string,
        rendered: rendered as Record<string, string>,
    };
}

async function converge(spec: CheckedInputs, previous: Record<string, ManagedFileRecord>, owned?: WindowsOwned): Promise<Outputs> {
    const host = await connectHost(spec.connection, spec.managedBy);
    const state = await applyScope(host, spec, spec.managedBy, spec.aptProxy, previous, () => connectHost(spec.connection, spec.managedBy), owned);
    return { ...spec, ...state };
}

export const dhcpScopeProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        const { managedBy, aptProxy, ...rest } = withoutProvider(news);
        return checkInputs(news, rest, validateScope, (spec) => ({ ...spec, aptProxy, managedBy, rendered: render(spec, managedBy as string) }));
    },

    async diff(_id, olds: Outputs, news: CheckedInputs) {
        const changed = inputsDiffer(olds as never, news as never, KEYS).length > 0;
        const drifted =
            news.kind === "windows"
                ? (olds.pendingCommands ?? []).length > 0
                : Object.entries(news.rendered ?? {}).some(([path, content]) => olds.managedFiles?.[path]?.sha256 !== sha256Hex(content)) ||
                  olds.service?.active !== "active";
        // Never two DHCP servers on one LAN: the old one goes before the new one starts.
        const replaces = [
            ...(olds.kind !== news.kind ? ["kind"] : []),
            ...anotherMachine(olds, news),
            // A Windows scope is its scope ID: another network is another scope (a new mask on the same network is an update, guarded by the apply).
            ...(olds.kind === "windows" && news.kind === "windows" ? windowsReplaceKeys(olds, news) : []),
        ];
        const destroyed =
            olds.kind === "windows"
                ? { paths: [`what it created in Windows scope ${olds.windows?.scopeId ?? ""} (an adopted scope stays)`] }
                : { files: Object.keys(olds.managedFiles ?? {}) };
        announceReplacement(replaces, olds.managedBy, { olds, news }, destroyed, true);
        // A config change that would remove something from a Windows scope: said by cmdlet, at preview,
        // from the scope as the last refresh read it.
        const removals = replaces.length ? [] : removalsAtPreview(news, news.managedBy, olds.observedWindows, olds.windowsOwned);
        if (removals.length) progress(`${news.managedBy ?? `DhcpScope ${news.name}`}: the apply would send ${removals.join("; ")}`);
        return { changes: changed || drifted, replaces, deleteBeforeReplace: replaces.length > 0 };
    },

    async create(inputs) {
        const spec = parse(inputs);
        return { id: `${spec.connection.host}:${spec.kind}:${spec.name}`, outs: await converge(spec, {}) };
    },

    async update(_id, olds: Outputs, news) {
        return { outs: await converge(parse(news), olds.managedFiles ?? {}, olds.windowsOwned) };
    },

    async read(id, props: Outputs) {
        const host = await connectHost(props.connection);
        return { id, props: { ...props, ...(await readScope(host, props, props.managedBy, props.managedFiles ?? {}, props.windowsOwned)) } };
    },

    async delete(_id, props: Outputs) {
        const host = await connectHost(props.connection, props.managedBy);
        await removeScope(host, props, props.managedBy, props.managedFiles ?? {}, props.windowsOwned);
    },
};

export class DhcpScope extends LazyDynamicResource {
    declare readonly kind: pulumi.Output<string>;
    declare readonly managedFiles: pulumi.Output<Record<string, ManagedFileRecord>>;
    declare readonly service: pulumi.Output<ServiceState | null>;
    declare readonly pendingCommands: pulumi.Output<string[]>;
    declare readonly pendingRemovals: pulumi.Output<string[]>;
    declare readonly windowsOwned: pulumi.Output<WindowsOwned | undefined>;

    constructor(name: string, args: DhcpScopeArgs, opts?: pulumi.CustomResourceOptions) {
        const managedBy = `${pulumi.getProject()}/${pulumi.getStack()}: DhcpScope ${name}`;
        const props = {
            ...(args as object),
            managedBy,
            managedFiles: undefined,
            service: undefined,
            pendingCommands: undefined,
            pendingRemovals: undefined,
            windowsOwned: undefined,
        };
        super(__filename, "dhcpScopeProvider", "DhcpScope", name, props, opts);
        // Conflicts with the program's other DHCP servers fail the preview here, naming both.
        pulumi
            .all([pulumi.output(args.connection).apply((c) => c.host), args.subnet, args.mode, args.rangeStart, args.rangeEnd, args.name])
            .apply(([host, subnet, mode, rangeStart, rangeEnd, scopeName]) => {
                try {
                    claimDhcp({
                        owner: `DhcpScope ${name}`,
                        host,
                        subnet,
                        mode: mode ?? "full",
                        range: rangeStart && rangeEnd ? [rangeStart, rangeEnd] : undefined,
                        scopeName,
                    });
                } catch (err) {
                    throw new pulumi.RunError((err as Error).message);
                }
            });
    }
}
