import { isDeepStrictEqual } from "node:util";
import { NORMAL_MAC } from "../core/node";
import { ltspConfLines } from "../ltsp/ltspConf";

/** ltsp.conf sections by name -> their lines' text (comments and blank lines left out). */
function ltspConfSections(text: string): Map<string, string[]> {
    return new Map([...ltspConfLines(text)].map(([name, lines]) => [name, lines.map((l) => l.text)]));
}

/** Names of the sections that differ between two ltsp.conf texts. */
export function changedSections(before: string, after: string): string[] {
    const a = ltspConfSections(before);
    const b = ltspConfSections(after);
    return [...new Set([...a.keys(), ...b.keys()])].filter((name) => !isDeepStrictEqual(a.get(name), b.get(name)));
}

/** In words, how the sections of two ltsp.conf texts differ: `3 sections changed ([clients], 2 clients), 30 added, 20 removed`. */
export function describeSectionChanges(before: string, after: string): string {
    const a = ltspConfSections(before);
    const b = ltspConfSections(after);
    const changed = changedSections(before, after);
    const added = changed.filter((n) => !a.has(n)).length;
    const removed = changed.filter((n) => !b.has(n)).length;
    const modified = changed.filter((n) => a.has(n) && b.has(n));
    const named = modified.filter((n) => !NORMAL_MAC.test(n)).map((n) => `[${n}]`);
    const clients = modified.length - named.length;
    const what = [...named, ...(clients ? [`${clients} client section${clients === 1 ? "" : "s"}`] : [])].join(", ");
    return `ltsp.conf sections: ${modified.length} changed${what ? ` (${what})` : ""}, ${added} added, ${removed} removed.`;
}
