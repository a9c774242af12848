import { CsvError, parse } from "csv-parse/sync";
import { type InventoryIssue, issue, ltspConfKeyProblem, NODE_FIELDS, type NodeField, type Place, type RawRecord } from "./records";

/** Column names: the node fields (ltspConf is spread over `ltsp.KEY` columns) and per-client ltsp.conf parameters. */
const SCALAR_COLUMNS: readonly string[] = NODE_FIELDS.filter((f) => f !== "ltspConf");
const REQUIRED_COLUMNS = ["mac", "hostname", "image"];
const LTSP_PREFIX = "ltsp.";

type Column = { field: Exclude<NodeField, "ltspConf"> } | { ltspKey: string };

/**
 * Reads a CSV inventory: a header row naming the columns, then one client per row. Empty
 * cells are unset fields; `#` at the start of a line is a comment; values are trimmed. An
 * unknown or repeated column is an error (a misspelt column is never silently dropped), and so
 * is a row with more or fewer cells than the header.
 */
export function readCsvInventory(file: string, text: string): { records: RawRecord[]; issues: InventoryIssue[] } {
    const issues: InventoryIssue[] = [];
    let rows: { record: string[]; info: { lines: number } }[];
    try {
        rows = parse(text, {
            bom: true,
            info: true,
            trim: true,
            skip_empty_lines: true,
            relax_column_count: true,
            comment: "#",
            comment_no_infix: true,
        }) as unknown as typeof rows;
    } catch (error) {
        if (!(error instanceof CsvError)) throw error;
        const line = (error as CsvError & { lines?: number }).lines ?? 0;
        return { records: [], issues: [issue(file, { line }, "syntax", undefined, `is not valid CSV: ${error.message}`)] };
    }
    if (rows.length === 0) return { records: [], issues: [issue(file, { line: 1 }, "header", undefined, "has no header row")] };

    const header = rows[0];
    const columns: (Column | undefined)[] = header.record.map((name, i) => {
        const place = { line: header.info.lines, column: i + 1 };
        if (header.record.indexOf(name) !== i) {
            issues.push(issue(file, place, name, name, `repeats column ${header.record.indexOf(name) + 1}`));
            return undefined;
        }
        if (SCALAR_COLUMNS.includes(name)) return { field: name as Exclude<NodeField, "ltspConf"> };
        if (name.startsWith(LTSP_PREFIX)) {
            const key = name.slice(LTSP_PREFIX.length);
            const problem = ltspConfKeyProblem(key);
            if (!problem) return { ltspKey: key };
            issues.push(issue(file, place, name, key, problem));
            return undefined;
        }
        issues.push(
            issue(file, place, name, name, `is not a column of an inventory (known: ${SCALAR_COLUMNS.join(", ")}, ${LTSP_PREFIX}KEY for ltsp.conf)`),
        );
        return undefined;
    });
    for (const required of REQUIRED_COLUMNS) {
        if (!header.record.includes(required))
            issues.push(issue(file, { line: header.info.lines }, "header", undefined, `has no column "${required}" (required)`));
    }
    if (issues.length) return { records: [], issues };

    const records: RawRecord[] = [];
    for (const row of rows.slice(1)) {
        const line = row.info.lines;
        if (row.record.length !== header.record.length) {
            issues.push(issue(file, { line }, "row", row.record.join(","), `has ${row.record.length} cells; the header has ${header.record.length}`));
            continue;
        }
        const values: RawRecord["values"] = {};
        const columnOf = new Map<string, number>();
        row.record.forEach((cell, i) => {
            const column = columns[i]!;
            if (cell === "") return;
            if ("ltspKey" in column) {
                values.ltspConf = { ...values.ltspConf, [column.ltspKey]: cell };
                columnOf.set(`ltspConf.${column.ltspKey}`, i + 1);
            } else if (column.field === "menuTimeout") {
                if (/^-?\d+$/.test(cell)) values.menuTimeout = Number(cell);
                else
                    issues.push(
                        issue(
                            file,
                            { line, column: i + 1 },
                            "menuTimeout",
                            cell,
                            "is not a whole number of milliseconds (0 waits forever, -1 boots without a menu)",
                        ),
                    );
                columnOf.set("menuTimeout", i + 1);
            } else {
                values[column.field] = cell;
                columnOf.set(column.field, i + 1);
            }
        });
        const place: Place = { line };
        records.push({
            place,
            values,
            placeOf: (field) => {
                const column = columnOf.get(field) ?? header.record.indexOf(field) + 1;
                return column > 0 ? { line, column } : place;
            },
            nameOf: (field) => (field.startsWith("ltspConf.") ? LTSP_PREFIX + field.slice("ltspConf.".length) : field),
        });
    }
    return { records, issues };
}
