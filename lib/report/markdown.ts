import { RESOURCE_KINDS } from "../core/resourceKinds";
import { type FileChange, fileChanges, MAX_EDITS } from "./files";
import { type ClientImpact, clientImpact, type ImpactGroup } from "./impact";
import { appServerMoves, describeAppServerMove, describeMove, nodeMoves } from "./nodes";
import type { Kind, Op, Preview, ResourceChange } from "./preview";
import { renderMermaid, topologyOf } from "./topology";

/** GitHub refuses comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65536;

export interface ReportOptions {
    /** Shown in the heading, e.g. the stack name. */
    title?: string;
    /** The report is kept under this many characters (default: GitHub's limit less a margin for a bot's own text). */
    maxChars?: number;
    /** Per-node lines (and names in an impact group) before "… and N more". */
    maxNodeLines?: number;
    /** Lines of one file's diff before it is cut. */
    maxDiffLines?: number;
    /** A section with more lines than this starts collapsed. */
    collapseOver?: number;
}

const DEFAULTS: Required<Omit<ReportOptions, "title">> = { maxChars: 60000, maxNodeLines: 40, maxDiffLines: 300, collapseOver: 25 };

const KIND_WORDS: Record<Kind, string> = {
    LtspServer: "LTSP servers",
    DhcpScope: "DHCP scopes",
    ChrootImage: "images",
    NodeAssignment: "nodes",
    AppServer: "app servers",
    SessionBalance: "session balances",
    SlurmController: "Slurm controllers",
    ClonezillaRepository: "Clonezilla repositories",
    other: "other resources",
};

const OP_WORDS: Record<Exclude<Op, "same">, string> = { create: "to create", update: "to update", replace: "to replace", delete: "to delete" };

function html(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A code fence longer than any run of backticks in the content. */
function fenced(info: string, content: string): string {
    const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
    const fence = "`".repeat(Math.max(3, longest + 1));
    return `${fence}${info}\n${content.endsWith("\n") ? content : `${content}\n`}${fence}`;
}

function plural(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Up to `max` items, then "… and N more". */
function capped(items: readonly string[], max: number): { shown: string[]; more: number } {
    return items.length <= max ? { shown: [...items], more: 0 } : { shown: items.slice(0, max), more: items.length - max };
}

function section(title: string, body: string, collapseOver: number): string {
    const lines = body.split("\n").length;
    return `<details${lines > collapseOver ? "" : " open"}><summary><b>${title}</b></summary>\n\n${body.trim()}\n\n</details>`;
}

/** The counts per kind and operation; unchanged resources come from `sameCount` when the preview lists none. */
function summary(changes: readonly ResourceChange[], sameCount: number | undefined): string {
    const ours = changes.filter((c) => c.kind !== "other" || c.op !== "same");
    const count = (kind: Kind | undefined, op: Op) => ours.filter((c) => (kind === undefined || c.kind === kind) && c.op === op).length;
    const ops = (["create", "update", "replace", "delete"] as const).filter((op) => count(undefined, op) > 0);
    const listedSame = count(undefined, "same");
    const same = listedSame || sameCount || 0;
    const headline = ops.length ? ops.map((op) => `${count(undefined, op)} ${OP_WORDS[op]}`).join(", ") : "no changes";
    const lines = [`**${headline}**${same ? `, ${same} unchanged` : ""}`];
    const kinds = [...RESOURCE_KINDS, "other" as const].filter(
        (k) => ours.some((c) => c.kind === k && c.op !== "same") || (listedSame && ours.some((c) => c.kind === k)),
    );
    if (kinds.length) {
        const columns: Op[] = ["create", "update", "replace", "delete", ...(listedSame ? (["same"] as Op[]) : [])];
        lines.push(
            "",
            `| | ${columns.map((op) => (op === "same" ? "unchanged" : op)).join(" | ")} |`,
            `| --- |${columns.map(() => " ---: |").join("")}`,
        );
        for (const kind of kinds) lines.push(`| ${KIND_WORDS[kind]} | ${columns.map((op) => count(kind, op) || "").join(" | ")} |`);
    }
    return lines.join("\n");
}

function nodesSection(apps: readonly string[], moves: readonly string[], maxLines: number): string | undefined {
    if (!apps.length && !moves.length) return undefined;
    const { shown, more } = capped(moves, maxLines);
    const lines = [...apps.map((l) => `- ${l}`), ...(apps.length && moves.length ? [""] : []), ...shown.map((l) => `- ${l}`)];
    if (more) lines.push(`- … and ${more} more`);
    return lines.join("\n");
}

function names(hostnames: readonly string[], max: number): string {
    const { shown, more } = capped(hostnames, max);
    return shown.join(", ") + (more ? `, … and ${more} more` : "");
}

function impactSection(impact: ClientImpact, maxNames: number, unlistedSame: number): string | undefined {
    const lines: string[] = [];
    const group = (g: ImpactGroup) => `- ${g.reason}: ${plural(g.hostnames.length, "client")} (${names(g.hostnames, maxNames)})`;
    const rebooting = new Set(impact.mustReboot.flatMap((g) => g.hostnames));
    if (rebooting.size) {
        lines.push(`**Must reboot to take the change: ${plural(rebooting.size, "client")}.** Until then they keep running as they are.`, "");
        lines.push(...impact.mustReboot.map(group), "");
    }
    if (impact.nextDhcp.length) {
        lines.push("**At their next DHCP exchange (lease renewal or boot); they keep running:**", "", ...impact.nextDhcp.map(group), "");
    }
    if (impact.nextBoot.length) lines.push("**At their next boot; nothing to do now:**", "", ...impact.nextBoot.map(group), "");
    if (impact.noRule.length) {
        lines.push(`**No rule for:** ${impact.noRule.map((f) => `\`${f}\``).join(", ")}: check by hand what the change does to running clients.`, "");
    }
    if (impact.newClients.length)
        lines.push(`**New: ${plural(impact.newClients.length, "client")}**, boot when powered on: ${names(impact.newClients, maxNames)}`, "");
    if (impact.removedClients.length) {
        lines.push(
            `**Removed: ${plural(impact.removedClients.length, "client")}**, keep running until they reboot, then boot without their own section and reservation: ${names(impact.removedClients, maxNames)}`,
            "",
        );
    }
    if (!lines.length && !impact.total) return undefined;
    if (unlistedSame) {
        lines.push(
            `**Unaffected:** every other client keeps running (the preview lists no step for its ${plural(unlistedSame, "unchanged resource")}; \`--state\` counts them).`,
        );
    } else if (impact.unaffected) {
        lines.push(`**Unaffected: ${plural(impact.unaffected, "client")}** keep running; nothing changes for them.`);
    }
    return lines.join("\n");
}

/** Servers and scopes whose files cannot be shown: their inputs hold values known only during `up`. */
function unknownFiles(changes: readonly ResourceChange[]): string[] {
    return changes
        .filter((c) => (c.kind === "LtspServer" || c.kind === "DhcpScope") && (c.op === "create" || c.op === "update" || c.op === "replace"))
        .filter((c) => c.after && c.after.rendered === undefined)
        .map((c) => `${c.kind} ${c.name}`);
}

function fileBlock(file: FileChange, maxDiffLines: number, collapseOver: number): string {
    if (file.patch === undefined) {
        const title = `<code>${html(file.path)}</code> (${html(file.owner)}, ${file.status}: about +${file.added} −${file.removed})`;
        return `<details open><summary>${title}</summary>\n\nMore than ${MAX_EDITS} changed lines: no line diff.${file.sections ? ` ${file.sections}` : ""}\n\n</details>`;
    }
    const lines = file.patch.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    const cut = lines.length > maxDiffLines ? lines.length - maxDiffLines : 0;
    const body =
        fenced("diff", lines.slice(0, lines.length - cut).join("\n")) + (cut ? `\n\n… ${plural(cut, "more line")} of this diff not shown.` : "");
    const title = `<code>${html(file.path)}</code> (${html(file.owner)}, ${file.status}: +${file.added} −${file.removed})`;
    const open = lines.length - cut <= collapseOver ? " open" : "";
    return `<details${open}><summary>${title}</summary>\n\n${body}\n\n</details>`;
}

function filesSection(
    changes: readonly ResourceChange[],
    files: readonly FileChange[],
    maxDiffLines: number | null,
    collapseOver: number,
): string | undefined {
    const unknown = unknownFiles(changes);
    if (!files.length && !unknown.length) return undefined;
    const parts: string[] = [];
    if (maxDiffLines === null) {
        parts.push(...files.map((f) => `- <code>${html(f.path)}</code> (${html(f.owner)}, ${f.status}: +${f.added} −${f.removed})`));
    } else {
        parts.push(...files.map((f) => fileBlock(f, maxDiffLines, collapseOver)));
    }
    if (unknown.length) {
        parts.push(
            `Not known at preview: the files of ${unknown.join(", ")} depend on values Pulumi learns only during \`up\` ` +
                "(e.g. a node whose optional fields are unset); `pulumi up` shows them.",
        );
    }
    return parts.join("\n\n");
}

/** What the report says, computed once; `assemble` only formats it within the limits. */
interface Model {
    appLines: string[];
    nodeLines: string[];
    impact: ClientImpact;
    files: FileChange[];
    mermaid?: string;
}

function model(changes: readonly ResourceChange[]): Model {
    const topology = topologyOf(changes);
    return {
        appLines: appServerMoves(changes).map(describeAppServerMove),
        nodeLines: nodeMoves(changes).map(describeMove),
        impact: clientImpact(changes),
        files: fileChanges(changes),
        mermaid: topology.servers.length || topology.scopes.length || topology.bootCounts.length ? renderMermaid(topology) : undefined,
    };
}

interface Limits {
    maxNodeLines: number;
    /** null: list the files without their diffs. */
    maxDiffLines: number | null;
}

function assemble(
    preview: Preview,
    m: Model,
    opts: Required<Omit<ReportOptions, "title">> & { title?: string },
    limits: Limits,
    cuts: string[],
): string {
    const { changes } = preview;
    const parts: string[] = [`### netboot preview${opts.title ? `: ${opts.title}` : ""}`, ""];
    const errors = preview.diagnostics.filter((d) => d.severity === "error");
    const warnings = preview.diagnostics.filter((d) => d.severity === "warning");
    if (errors.length) {
        parts.push(
            `> [!CAUTION]\n> **The preview failed.** Nothing below is what \`up\` would do.`,
            "",
            fenced("", errors.map((d) => d.message).join("\n")),
            "",
        );
    }
    parts.push(summary(changes, preview.sameCount), "");
    const nodes = nodesSection(m.appLines, m.nodeLines, limits.maxNodeLines);
    if (nodes) parts.push(section("Nodes", nodes, opts.collapseOver), "");
    const unlistedSame = changes.some((c) => c.op === "same") ? 0 : (preview.sameCount ?? 0);
    const impact = impactSection(m.impact, limits.maxNodeLines, unlistedSame);
    if (impact) parts.push(section("What happens to running clients", impact, opts.collapseOver), "");
    const files = filesSection(changes, m.files, limits.maxDiffLines, opts.collapseOver);
    if (files) parts.push(section("Generated files", files, opts.collapseOver), "");
    if (m.mermaid) {
        const note = unlistedSame
            ? `\n\n_Counts only what this change touches: the preview lists no step for the ${plural(unlistedSame, "unchanged resource")}; ` +
              "give `--state` (`pulumi stack export` from before the change) to count them._"
            : "";
        parts.push(section("Topology after the change", fenced("mermaid", m.mermaid) + note, opts.collapseOver), "");
    }
    if (warnings.length)
        parts.push(section("Warnings", warnings.map((d) => `- ${d.message.replace(/\n+/g, " ")}`).join("\n"), opts.collapseOver), "");
    if (cuts.length) {
        parts.push(
            `_Shortened to fit a comment (${GITHUB_COMMENT_LIMIT} characters): ${cuts.join("; ")}. \`pulumi preview --diff\` shows everything._`,
            "",
        );
    }
    return parts.join("\n").replace(/\n{3,}/g, "\n\n");
}

/**
 * The Markdown report of a preview. When it would be longer than `maxChars`, diffs are cut
 * shorter, then per-node lists, then diffs are left out (files listed with their counts); the
 * report says what was cut.
 */
export function renderReport(preview: Preview, options: ReportOptions = {}): string {
    // An option given as undefined (an unset CLI flag) keeps its default.
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ReportOptions;
    const opts = { ...DEFAULTS, ...given };
    let limits: Limits = { maxNodeLines: opts.maxNodeLines, maxDiffLines: opts.maxDiffLines };
    const cuts: string[] = [];
    const describe = (l: Limits) => {
        const said: string[] = [];
        if (l.maxDiffLines === null) said.push("file diffs left out (files listed with their line counts)");
        else if (l.maxDiffLines < opts.maxDiffLines) said.push(`each diff cut to ${l.maxDiffLines} lines`);
        if (l.maxNodeLines < opts.maxNodeLines) said.push(`node lists cut to ${l.maxNodeLines} names`);
        return said;
    };
    const m = model(preview.changes);
    let report = assemble(preview, m, opts, limits, []);
    const steps: Array<(l: Limits) => Limits | undefined> = [
        (l) => (l.maxDiffLines !== null && l.maxDiffLines > 25 ? { ...l, maxDiffLines: Math.floor(l.maxDiffLines / 2) } : undefined),
        (l) => (l.maxNodeLines > 10 ? { ...l, maxNodeLines: Math.floor(l.maxNodeLines / 2) } : undefined),
        (l) => (l.maxDiffLines !== null ? { ...l, maxDiffLines: null } : undefined),
    ];
    for (const step of steps) {
        while (report.length > opts.maxChars) {
            const next = step(limits);
            if (!next) break;
            limits = next;
            cuts.splice(0, cuts.length, ...describe(limits));
            report = assemble(preview, m, opts, limits, cuts);
        }
    }
    if (report.length > opts.maxChars) {
        const note = `\n\n_… report cut at ${opts.maxChars} characters; \`pulumi preview --diff\` shows everything._\n`;
        // Cut, then close what the cut left open: a code block, <details> sections.
        let cut = report.slice(0, Math.max(0, opts.maxChars - note.length - 120));
        if ((cut.match(/^```/gm) ?? []).length % 2) cut += "\n```";
        const open = (cut.match(/<details/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
        report = cut + "\n\n</details>".repeat(Math.max(0, open)) + note;
    }
    return report;
}
