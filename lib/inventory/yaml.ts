import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair, parseDocument, Scalar, type YAMLMap } from "yaml";
import { type InventoryIssue, issue, ltspConfKeyProblem, NODE_FIELDS, type NodeField, type Place, type RawRecord } from "./records";

/** Fields whose value is text: a plain scalar YAML reads as a number or boolean is taken as written. */
const TEXT_FIELDS: readonly string[] = ["mac", "hostname", "image", "role", "ip", "kernelParameters"];

/**
 * Reads a YAML inventory: a mapping with one key, `nodes`, a list of clients, each a mapping
 * of the NodeAssignment's fields (`ltspConf` a mapping of ltsp.conf parameters). An unknown key
 * is an error, and so is a repeated one. YAML 1.2 reads `mac: 525400123456` as a number and
 * `hostname: true` as a boolean: for text fields the value is taken as written in the file.
 */
export function readYamlInventory(file: string, text: string): { records: RawRecord[]; issues: InventoryIssue[] } {
    const issues: InventoryIssue[] = [];
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const lineOf = (node: Node | null | undefined): number => (node?.range ? lines.linePos(node.range[0]).line : 1);
    for (const error of doc.errors) {
        issues.push(
            issue(file, { line: lines.linePos(error.pos[0]).line }, "syntax", undefined, `is not valid YAML: ${error.message.split("\n")[0]}`),
        );
    }
    if (issues.length) return { records: [], issues };

    const root = doc.contents;
    if (!isMap(root))
        return { records: [], issues: [issue(file, { line: lineOf(root) }, "document", undefined, "must be a mapping with the key `nodes`")] };
    let list: Node | null | undefined;
    for (const pair of root.items as Pair<Node, Node | null>[]) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (key === "nodes") list = pair.value;
        else issues.push(issue(file, { line: lineOf(pair.key) }, String(key), key, "is not a key of an inventory (known: nodes)"));
    }
    if (!isSeq(list)) {
        issues.push(issue(file, { line: lineOf(list ?? root) }, "nodes", undefined, "must be a list of clients"));
        return { records: [], issues };
    }

    /** The value of a scalar as the field wants it; `undefined` for an empty one (`ip:` or `ip: ~`). */
    const scalarValue = (field: string, node: Node | null): unknown => {
        if (node === null || (isScalar(node) && node.value === null)) return undefined;
        if (!isScalar(node)) return node.toJSON();
        const plain = node.type === Scalar.PLAIN && typeof node.value !== "string";
        return plain && TEXT_FIELDS.includes(field) && node.range ? text.slice(node.range[0], node.range[1]) : node.value;
    };

    const records: RawRecord[] = [];
    list.items.forEach((item, entry) => {
        const node = item as Node;
        const place: Place = { line: lineOf(node), entry };
        if (!isMap(node)) {
            issues.push(issue(file, place, `nodes[${entry}]`, (node as Node).toJSON?.() ?? node, "must be a mapping of a client's fields"));
            return;
        }
        const values: RawRecord["values"] = {};
        const placeOf = new Map<string, Place>();
        for (const pair of node.items as Pair<Node, Node | null>[]) {
            const key = isScalar(pair.key) ? pair.key.value : pair.key;
            const keyPlace = { line: lineOf(pair.key), entry };
            if (typeof key !== "string" || !(NODE_FIELDS as readonly string[]).includes(key)) {
                issues.push(issue(file, keyPlace, String(key), key, `is not a field of a client (known: ${NODE_FIELDS.join(", ")})`));
                continue;
            }
            const valuePlace = { line: lineOf(pair.value ?? pair.key), entry };
            placeOf.set(key, valuePlace);
            if (key !== "ltspConf") {
                const value = scalarValue(key, pair.value);
                if (value !== undefined) values[key as Exclude<NodeField, "ltspConf">] = value;
                continue;
            }
            if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue;
            if (!isMap(pair.value)) {
                issues.push(issue(file, valuePlace, "ltspConf", pair.value.toJSON(), "must be a mapping of ltsp.conf parameters, like { MOSIX: N }"));
                continue;
            }
            const conf: Record<string, unknown> = {};
            for (const confPair of (pair.value as YAMLMap<Node, Node | null>).items) {
                const confKey = isScalar(confPair.key) ? confPair.key.value : confPair.key;
                const confPlace = { line: lineOf(confPair.key), entry };
                const problem = typeof confKey === "string" ? ltspConfKeyProblem(confKey) : "is not an ltsp.conf parameter name";
                if (typeof confKey !== "string" || problem) {
                    issues.push(issue(file, confPlace, `ltspConf.${String(confKey)}`, confKey, problem!));
                    continue;
                }
                placeOf.set(`ltspConf.${confKey}`, { line: lineOf(confPair.value ?? confPair.key), entry });
                // ltsp.conf values are text: `X: 0` or `X: true` mean what is written.
                const raw = confPair.value;
                conf[confKey] =
                    isScalar(raw) && raw.value !== null && raw.range
                        ? typeof raw.value === "string"
                            ? raw.value
                            : text.slice(raw.range[0], raw.range[1])
                        : raw?.toJSON();
            }
            values.ltspConf = conf;
        }
        records.push({ place, values, placeOf: (field) => placeOf.get(field) ?? place, nameOf: (field) => field });
    });
    return { records, issues };
}
