/**
 * The model of `pulumi preview --json --diff` this report works from: one change per resource
 * (a replacement's create-replacement / delete-replaced steps folded into one), its kind, and its
 * inputs before and after. Our resources are dynamic resources; their URN type names the kind
 * (`pulumi-nodejs:dynamic/netboot:LtspServer`, from LazyDynamicResource). States written before those type hints (`pulumi-nodejs:dynamic:Resource`)
 * are recognised by their fields.
 */

import { RESOURCE_KINDS, RESOURCE_TYPE_PREFIX, type ResourceKind } from "../core/resourceKinds";

/** A resource's kind in the report: one of ours (RESOURCE_KINDS), or another provider's. */
export type Kind = ResourceKind | "other";

/** What happens to a resource, in the report's words (Pulumi's ops folded). */
export type Op = "create" | "update" | "replace" | "delete" | "same";
export const OPS: readonly Op[] = ["create", "update", "replace", "delete", "same"];

export type Props = Record<string, unknown>;

export interface ResourceChange {
    op: Op;
    urn: string;
    /** The resource's Pulumi name (last URN segment). */
    name: string;
    kind: Kind;
    /** Inputs in the state before the change (absent for a create). */
    before?: Props;
    /** Inputs after the change (absent for a delete). */
    after?: Props;
    /** Top-level property names whose change Pulumi reported (diffReasons, detailedDiff keys). */
    changedKeys: string[];
    replaceReasons: string[];
}

export interface Diagnostic {
    severity: string;
    message: string;
    urn?: string;
}

export interface Preview {
    changes: ResourceChange[];
    diagnostics: Diagnostic[];
    /**
     * Resources the preview leaves unchanged, from its changeSummary: `--json` lists no step for
     * them. (mergeState adds them as "same" changes with their inputs.)
     */
    sameCount?: number;
}

/** The step shape of `pulumi preview --json` (display.PreviewStep), as far as we read it. */
interface RawStep {
    op: string;
    urn: string;
    oldState?: { type?: string; inputs?: Props; outputs?: Props };
    newState?: { type?: string; inputs?: Props; outputs?: Props };
    diffReasons?: string[];
    replaceReasons?: string[];
    detailedDiff?: Record<string, unknown> | null;
}

export function urnType(urn: string): string {
    // urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME
    const parts = urn.split("::");
    const qualified = parts[2] ?? "";
    return qualified.split("$").pop() ?? "";
}

export function urnName(urn: string): string {
    const parts = urn.split("::");
    return parts.slice(3).join("::");
}

/** The kind of one of our resources from its type, or (older states) from its fields. */
export function kindOf(type: string, props: Props | undefined): Kind {
    if (type.startsWith(RESOURCE_TYPE_PREFIX)) {
        const name = type.slice(RESOURCE_TYPE_PREFIX.length);
        return (RESOURCE_KINDS as readonly string[]).includes(name) ? (name as Kind) : "other";
    }
    if (type !== "pulumi-nodejs:dynamic:Resource" || !props) return "other";
    if ("nodeName" in props && "mac" in props) return "NodeAssignment";
    if ("buildHash" in props || ("source" in props && "name" in props)) return "ChrootImage";
    if ("subnet" in props && "boot" in props) return "DhcpScope";
    if ("lan" in props) return "LtspServer";
    return "other";
}

function foldOp(op: string): Op | undefined {
    switch (op) {
        case "create":
        case "update":
        case "delete":
        case "same":
            return op;
        case "replace":
        case "create-replacement":
        case "delete-replaced":
            return "replace";
        // read, refresh, import, discard: not a change this report describes
        default:
            return undefined;
    }
}

function stripProvider(props: Props | undefined): Props | undefined {
    if (!props) return undefined;
    const { __provider: _provider, ...rest } = props;
    return rest;
}

/** Parses the document `pulumi preview --json --diff` prints. */
export function parsePreview(document: unknown): Preview {
    const doc = (document ?? {}) as {
        steps?: RawStep[];
        diagnostics?: Array<{ severity?: string; message?: string; urn?: string }>;
        changeSummary?: Record<string, number>;
    };
    const byUrn = new Map<string, ResourceChange>();
    let skippedSame = 0;
    for (const step of doc.steps ?? []) {
        const op = foldOp(step.op);
        if (!op || !step.urn) continue;
        const type = step.newState?.type ?? step.oldState?.type ?? urnType(step.urn);
        // The stack itself and provider instances are Pulumi's bookkeeping, not infrastructure.
        if (type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:")) {
            if (op === "same") skippedSame++;
            continue;
        }
        const before = stripProvider(op === "create" ? undefined : step.oldState?.inputs);
        const after = stripProvider(op === "delete" ? undefined : step.newState?.inputs);
        const changedKeys = [...new Set([...(step.diffReasons ?? []), ...Object.keys(step.detailedDiff ?? {}).map(topKey)])].filter(
            (k) => k !== "__provider",
        );
        const existing = byUrn.get(step.urn);
        if (existing) {
            // A replacement shows as several steps: keep what each of them knows.
            existing.op = "replace";
            existing.before ??= before;
            existing.after ??= after;
            existing.changedKeys = [...new Set([...existing.changedKeys, ...changedKeys])];
            existing.replaceReasons = [...new Set([...existing.replaceReasons, ...(step.replaceReasons ?? [])])];
            continue;
        }
        byUrn.set(step.urn, {
            op,
            urn: step.urn,
            name: urnName(step.urn),
            kind: kindOf(type, after ?? before),
            before,
            after,
            changedKeys,
            replaceReasons: step.replaceReasons ?? [],
        });
    }
    const diagnostics = (doc.diagnostics ?? [])
        .filter((d) => d.message)
        .map((d) => ({ severity: d.severity ?? "info", message: stripAnsi(d.message!).trim(), ...(d.urn ? { urn: d.urn } : {}) }));
    const same = doc.changeSummary?.same;
    return { changes: sorted([...byUrn.values()]), diagnostics, ...(same !== undefined ? { sameCount: Math.max(0, same - skippedSame) } : {}) };
}

/** The shape of `pulumi stack export` we read: each resource's URN, type and inputs. */
interface StateExport {
    deployment?: { resources?: Array<{ urn: string; type: string; inputs?: Props; custom?: boolean }> };
}

/**
 * Adds the resources of the state before the preview that the preview lists no step for, as
 * unchanged ("same"): the report then knows every client, e.g. all clients of a rebuilt image.
 */
export function mergeState(preview: Preview, state: unknown): Preview {
    const resources = (state as StateExport)?.deployment?.resources ?? [];
    const listed = new Set(preview.changes.map((c) => c.urn));
    const same: ResourceChange[] = [];
    for (const r of resources) {
        if (listed.has(r.urn) || !r.custom || r.type.startsWith("pulumi:providers:")) continue;
        const inputs = stripProvider(r.inputs) ?? {};
        same.push({
            op: "same",
            urn: r.urn,
            name: urnName(r.urn),
            kind: kindOf(r.type, inputs),
            before: inputs,
            after: inputs,
            changedKeys: [],
            replaceReasons: [],
        });
    }
    return { ...preview, changes: sorted([...preview.changes, ...same]), sameCount: undefined };
}

/** Servers, scopes, images, nodes, others; by name within a kind (the engine's step order varies from run to run). */
function sorted(changes: ResourceChange[]): ResourceChange[] {
    const rank = (k: Kind) => (k === "other" ? RESOURCE_KINDS.length : RESOURCE_KINDS.indexOf(k));
    return changes.sort((a, b) => rank(a.kind) - rank(b.kind) || a.name.localeCompare(b.name, "en", { numeric: true }) || a.urn.localeCompare(b.urn));
}

/** `nodes[3].mac` -> `nodes`, `rendered["/etc/x"]` -> `rendered`. */
function topKey(path: string): string {
    return path.split(/[.[]/)[0];
}

function stripAnsi(text: string): string {
    // eslint-disable-next-line no-control-regex
    return text.replace(/\u001b\[[0-9;]*m/g, "");
}

export function ofKind(changes: readonly ResourceChange[], kind: Kind): ResourceChange[] {
    return changes.filter((c) => c.kind === kind);
}

/** The state a resource will be in after the change (undefined once deleted). */
export function afterState(change: ResourceChange): Props | undefined {
    return change.op === "delete" ? undefined : change.after;
}
