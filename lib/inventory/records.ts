import { describeValue } from "../core/fields";
import { type NodeSpec, nodeSchema, normalizeMac, validateNode } from "../core/node";

/** One client as an inventory file describes it: a NodeAssignment's inputs, validated and normalized. */
export type InventoryNode = Omit<NodeSpec, "nodeName">;

/** The fields a node record may have (ltspConf is a map in YAML, `ltsp.KEY` columns in CSV). */
export const NODE_FIELDS = ["mac", "hostname", "image", "role", "ip", "kernelParameters", "menuTimeout", "ltspConf"] as const;
export type NodeField = (typeof NODE_FIELDS)[number];

/** Where a record, or a value in it, came from: a line of the file; in YAML also the entry (0-based index in `nodes`). */
export interface Place {
    line: number;
    entry?: number;
    /** CSV: the 1-based column of the value. */
    column?: number;
}

/** One problem in an inventory file: every message names the file, the place, the field and the value. */
export interface InventoryIssue extends Place {
    file: string;
    /** The field (`mac`, `ltspConf.MOSIX`), or a header cell / YAML key as written. */
    field: string;
    value: unknown;
    /** Complete sentence: `nodes.csv line 4, column 1 (mac): "52:54:zz" is not a MAC address ...`. */
    message: string;
}

export function describePlace(file: string, place: Place, field?: string): string {
    let text = `${file} line ${place.line}`;
    if (place.entry !== undefined) text += ` (nodes[${place.entry}])`;
    if (place.column !== undefined) text += `, column ${place.column}`;
    if (field !== undefined) text += place.column !== undefined ? ` (${field})` : `, ${field}`;
    return text;
}

export function issue(file: string, place: Place, field: string, value: unknown, problem: string): InventoryIssue {
    const shown = value === undefined ? "" : `${describeValue(value)} `;
    return { file, ...place, field, value, message: `${describePlace(file, place, field)}: ${shown}${problem}` };
}

/**
 * Why `key` cannot be a per-client ltsp.conf parameter (the node schema's own rule: the syntax,
 * no command parameters, nothing the node has a field for), or undefined when it can.
 */
export function ltspConfKeyProblem(key: string): string | undefined {
    const result = nodeSchema.shape.ltspConf.safeParse({ [key]: "" });
    if (result.success) return undefined;
    const issue = result.error.issues.find((i) => i.code === "invalid_key");
    return issue?.issues[0]?.message;
}

/** Thrown with every issue found in a file (not just the first), so one run shows them all. */
export class InventoryError extends Error {
    constructor(
        readonly file: string,
        readonly issues: readonly InventoryIssue[],
    ) {
        const shown = issues.slice(0, 50).map((i) => `  ${i.message}`);
        if (issues.length > shown.length) shown.push(`  ... and ${issues.length - shown.length} more`);
        super(`inventory ${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}\n${shown.join("\n")}`);
        this.name = "InventoryError";
    }
}

/** A record as read from the file, before validation, with where each value came from. */
export interface RawRecord {
    place: Place;
    values: Partial<Record<Exclude<NodeField, "ltspConf">, unknown>> & { ltspConf?: Record<string, unknown> };
    /** Field (as validation names it: `mac`, `ltspConf.MOSIX`) -> where its value is, when it differs from `place`. */
    placeOf: (field: string) => Place;
    /** Field as validation names it -> as the file names it (`ltspConf.MOSIX` -> `ltsp.MOSIX` in CSV). */
    nameOf: (field: string) => string;
}

export interface CheckOptions {
    /** The images the stack serves: an image outside this list is an error in the file. */
    images?: readonly string[];
}

/**
 * Validates records with the NodeAssignment's own schema (the same messages as a preview) and
 * checks the file as a whole: a MAC, host name or address used twice names both lines.
 */
export function checkRecords(
    file: string,
    records: readonly RawRecord[],
    opts: CheckOptions = {},
): { nodes: InventoryNode[]; lines: number[]; issues: InventoryIssue[] } {
    const issues: InventoryIssue[] = [];
    const nodes: InventoryNode[] = [];
    const lines: number[] = [];
    const seen = { mac: new Map<string, Place>(), hostname: new Map<string, Place>(), ip: new Map<string, Place>() };
    for (const record of records) {
        // Collisions first, on the values as written (normalized where that is safe), so a row
        // with another problem still shows that it repeats a MAC, host name or address.
        for (const key of ["mac", "hostname", "ip"] as const) {
            const raw = record.values[key];
            if (typeof raw !== "string") continue;
            const value = key === "mac" ? (normalizeMac(raw) ?? raw) : key === "hostname" ? raw.toLowerCase() : raw;
            const first = seen[key].get(value);
            if (first)
                issues.push(
                    issue(
                        file,
                        record.placeOf(key),
                        record.nameOf(key),
                        raw,
                        `is also the ${key} of ${describePlace(file, first).slice(file.length + 1)}`,
                    ),
                );
            else seen[key].set(value, record.place);
        }
        const inputs = { nodeName: String(record.values.hostname ?? ""), ...record.values };
        const result = validateNode(inputs);
        if (!result.ok) {
            for (const failure of result.failures) {
                const value = failure.property.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], inputs);
                // The schema's reason starts with its own `property: value`; the file's names replace them.
                let problem = failure.reason.replace(/^[^:]*: /, "").replace(`${describeValue(value)} `, "");
                if (value === undefined) problem = "is missing; it is required";
                issues.push(issue(file, record.placeOf(failure.property), record.nameOf(failure.property), value, problem));
            }
            continue;
        }
        const { nodeName: _name, ...node } = result.spec;
        if (opts.images && !opts.images.includes(node.image)) {
            issues.push(
                issue(
                    file,
                    record.placeOf("image"),
                    record.nameOf("image"),
                    node.image,
                    `is not an image of this stack (known: ${opts.images.join(", ") || "none"})`,
                ),
            );
        }
        nodes.push(node);
        lines.push(record.place.line);
    }
    return { nodes, lines, issues };
}
