import { createTwoFilesPatch } from "diff";
import { describeSectionChanges } from "./ltspConfText";
import type { Props, ResourceChange } from "./preview";

/**
 * Generated files that change, as unified diffs. LtspServer and DhcpScope carry every file they
 * write in their checked inputs (`rendered`: path -> content); a Windows scope carries the scope
 * it wants (`windows-scope.json`) and, when a provider records them, the cmdlets it will send
 * (`cmdlets` or `pendingCommands`: string[]), diffed as a PowerShell script.
 */
export interface FileChange {
    /** The resource that writes the file, e.g. `LtspServer ltsp-server`. */
    owner: string;
    path: string;
    status: "added" | "removed" | "changed";
    /** Unified diff (headers + hunks), ending with a newline; absent when the change is too large to diff (see MAX_EDITS). */
    patch?: string;
    /** Lines added and removed (without a patch: lines only in the new file and only in the old, counted as multisets). */
    added: number;
    removed: number;
    /** Without a patch, for ltsp.conf: how its sections differ. */
    sections?: string;
}

/**
 * Edits (added + removed lines) beyond which no line diff is made: Myers' algorithm costs about
 * (lines x edits), and a 1400-node ltsp.conf in which every section changed took 7 s here. Such a
 * change is summarised instead (and ltsp.conf by its sections).
 */
export const MAX_EDITS = 2000;

const COMMAND_FIELDS = ["cmdlets", "pendingCommands"] as const;

/** path -> content of what a resource writes, from its inputs. */
export function filesOf(props: Props | undefined): Record<string, string> {
    if (!props) return {};
    const files: Record<string, string> = {};
    const rendered = props.rendered;
    if (rendered && typeof rendered === "object") {
        for (const [path, content] of Object.entries(rendered as Record<string, unknown>)) if (typeof content === "string") files[path] = content;
    }
    for (const field of COMMAND_FIELDS) {
        const commands = props[field];
        if (Array.isArray(commands) && commands.length && commands.every((c) => typeof c === "string")) {
            files[`${field}.ps1`] = `${commands.join("\n")}\n`;
        }
    }
    return files;
}

/** The diff of one file, `a/` and `b/` left out: the path is what a reviewer knows. */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): { patch?: string; added: number; removed: number } {
    const patch = createTwoFilesPatch(
        before === undefined ? "/dev/null" : path,
        after === undefined ? "/dev/null" : path,
        before ?? "",
        after ?? "",
        undefined,
        undefined,
        {
            context: 3,
            maxEditLength: MAX_EDITS,
        },
    );
    if (patch === undefined) return lineCounts(before ?? "", after ?? "");
    // The patch starts with "Index:" and a rule of '='; a reviewer needs it from the "---" header on.
    const body = patch.slice(patch.indexOf("\n--- ") + 1);
    let added = 0;
    let removed = 0;
    for (const line of body.split("\n")) {
        if (line.startsWith("+") && !line.startsWith("+++ ")) added++;
        else if (line.startsWith("-") && !line.startsWith("--- ")) removed++;
    }
    return { patch: body.endsWith("\n") ? body : `${body}\n`, added, removed };
}

/** Lines only in `after` (added) and only in `before` (removed), each line counted as often as it occurs. */
function lineCounts(before: string, after: string): { added: number; removed: number } {
    const counts = new Map<string, number>();
    for (const line of before.split("\n")) counts.set(line, (counts.get(line) ?? 0) + 1);
    let added = 0;
    for (const line of after.split("\n")) {
        const n = counts.get(line) ?? 0;
        if (n > 0) counts.set(line, n - 1);
        else added++;
    }
    const removed = [...counts.values()].reduce((a, b) => a + b, 0);
    return { added, removed };
}

export function fileChanges(changes: readonly ResourceChange[]): FileChange[] {
    const result: FileChange[] = [];
    for (const change of changes) {
        if (change.op === "same") continue;
        const before = change.op === "create" ? {} : filesOf(change.before);
        const after = change.op === "delete" ? {} : filesOf(change.after);
        const paths = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
        for (const path of paths) {
            if (before[path] === after[path]) continue;
            const status = before[path] === undefined ? "added" : after[path] === undefined ? "removed" : "changed";
            const diff = unifiedDiff(path, before[path], after[path]);
            const sections =
                diff.patch === undefined && path.endsWith("ltsp.conf") ? describeSectionChanges(before[path] ?? "", after[path] ?? "") : undefined;
            result.push({ owner: `${change.kind} ${change.name}`, path, status, ...diff, ...(sections ? { sections } : {}) });
        }
    }
    return result;
}
