import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { readCsvInventory } from "./csv";
import { type CheckOptions, checkRecords, InventoryError, type InventoryNode } from "./records";
import { readYamlInventory } from "./yaml";

export { InventoryError, InventoryIssue, InventoryNode, NODE_FIELDS } from "./records";

/**
 * Parses an inventory's text: `.csv`, or `.yaml`/`.yml`, by the file's name. Returns the
 * clients, validated and normalized (each is a NodeAssignment's inputs), or throws an
 * InventoryError listing every problem with its file, line, field and value.
 */
export function parseInventory(file: string, text: string, opts: CheckOptions = {}): InventoryNode[] {
    return parsePlacedInventory(file, text, opts).nodes;
}

/** The clients and, for each, the line of the file it starts on (so a stack's messages can name it). */
export function parsePlacedInventory(file: string, text: string, opts: CheckOptions = {}): { nodes: InventoryNode[]; lines: number[] } {
    const format = extname(file).toLowerCase();
    let read: ReturnType<typeof readCsvInventory>;
    if (format === ".csv") read = readCsvInventory(file, text);
    else if (format === ".yaml" || format === ".yml") read = readYamlInventory(file, text);
    else throw new Error(`inventory ${file}: the name must end in .csv, .yaml or .yml (it says which format the file is)`);
    const checked = checkRecords(file, read.records, opts);
    const issues = [...read.issues, ...checked.issues].sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
    if (issues.length) throw new InventoryError(file, issues);
    return { nodes: checked.nodes, lines: checked.lines };
}

/**
 * Loads the inventory a stack names: sites with hundreds or thousands of clients keep them in
 * a file, because stack config past 128 KiB cannot reach the program (the engine passes config
 * in one environment variable). `images`, when given, are the images the stack serves.
 *
 *     for (const node of loadInventory("inventory/lab.csv", { images: ["thin"] })) new NodeAssignment(node.hostname, node);
 */
export function loadInventory(file: string, opts: CheckOptions = {}): InventoryNode[] {
    return parseInventory(file, readFileSync(file, "utf8"), opts);
}

/** loadInventory with each client's line in the file. */
export function loadPlacedInventory(file: string, opts: CheckOptions = {}): { nodes: InventoryNode[]; lines: number[] } {
    return parsePlacedInventory(file, readFileSync(file, "utf8"), opts);
}
