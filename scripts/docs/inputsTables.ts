/**
 * The "Inputs" tables of docs/resources/*.md, generated from the zod schemas the resources
 * validate with: field names, types and defaults from the schema objects, descriptions from the
 * JSDoc comment above each field in the schema's source. A page holds its table between
 * `<!-- inputs: NAME -->` and `<!-- /inputs -->`; `scripts/gen-docs` rewrites it there, and
 * test/unit/docs.test.ts fails when a committed page differs from what this module generates.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import type { z } from "zod";

const ROOT = path.resolve(__dirname, "../..");

/** One table: the schema (module path from the repository root, export name) and the page it goes in. */
export interface InputsTable {
    name: string;
    page: string;
    module: string;
    schema: string;
    /** Prefix of every field name (SessionBalance's schema is its `balance` input). */
    prefix?: string;
    /** Fields listed as one row, not field by field (documented elsewhere: a node's fields on its own page). */
    collapse?: string[];
}

export const INPUTS_TABLES: readonly InputsTable[] = [
    {
        name: "LtspServer",
        page: "docs/resources/ltsp-server.md",
        module: "lib/ltsp/serverSpec.ts",
        schema: "ltspServerSchema",
        collapse: ["nodes", "ltspConf.server", "ltspConf.common", "ltspConf.clients"],
    },
    {
        name: "ltsp.conf section",
        page: "docs/resources/ltsp-server.md",
        module: "lib/ltsp/ltspConf.ts",
        schema: "ltspConfSectionSchema",
        prefix: "ltspConf.SECTION.",
    },
    { name: "ChrootImage", page: "docs/resources/chroot-image.md", module: "lib/images/imageSpec.ts", schema: "imageSchema" },
    { name: "NodeAssignment", page: "docs/resources/node-assignment.md", module: "lib/core/node.ts", schema: "nodeSchema" },
    { name: "DhcpScope", page: "docs/resources/dhcp-scope.md", module: "lib/dhcp/scopeSpec.ts", schema: "scopeSchema", collapse: ["nodes"] },
    { name: "AppServer", page: "docs/resources/app-server.md", module: "lib/appserver/spec.ts", schema: "appServerSchema" },
    { name: "SessionBalance", page: "docs/resources/session-balance.md", module: "lib/balance/spec.ts", schema: "balanceSchema", prefix: "balance." },
    { name: "SlurmController", page: "docs/resources/slurm-controller.md", module: "lib/slurm/clusterSpec.ts", schema: "clusterFields" },
    {
        name: "ClonezillaRepository",
        page: "docs/resources/clonezilla-repository.md",
        module: "lib/clonezilla/repositorySpec.ts",
        schema: "repositoryFields",
    },
];

/** Nested objects (and arrays of them) are listed field by field down to this depth (`dhcp.mode`, `users[].name`); deeper ones as `object`. */
const MAX_DEPTH = 3;

type Schema = z.ZodType;
interface Def {
    type: string;
    innerType?: Schema;
    defaultValue?: unknown;
    element?: Schema;
    options?: Schema[];
    entries?: Record<string, string>;
    values?: unknown[];
    in?: Schema;
    valueType?: Schema;
    shape?: Record<string, Schema>;
}
const defOf = (schema: Schema): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema without optional/default wrappers, and what they said. */
function unwrap(schema: Schema): { inner: Schema; optional: boolean; default?: unknown } {
    let inner = schema;
    let optional = false;
    let dflt: unknown;
    for (;;) {
        const def = defOf(inner);
        if (def.type === "optional" || def.type === "nullable") optional = true;
        else if (def.type === "default" || def.type === "prefault") dflt ??= def.defaultValue;
        else if (def.type !== "pipe" || !def.in) break;
        inner = def.type === "pipe" ? def.in! : def.innerType!;
    }
    return { inner, optional, default: dflt };
}

function typeName(schema: Schema): string {
    const { inner } = unwrap(schema);
    const def = defOf(inner);
    switch (def.type) {
        case "array":
            return `${typeName(def.element!)}[]`;
        case "enum":
            return Object.values(def.entries ?? {})
                .map((v) => JSON.stringify(v))
                .join(" \\| ");
        case "literal":
            return (def.values ?? []).map((v) => JSON.stringify(v)).join(" \\| ");
        case "union":
            return (def.options ?? []).map(typeName).join(" \\| ");
        case "record":
            return `record of ${typeName(def.valueType!)}`;
        default:
            return def.type;
    }
}

function shapeOf(schema: Schema): Record<string, Schema> | undefined {
    const { inner } = unwrap(schema);
    return defOf(inner).type === "object" ? (inner as unknown as { shape: Record<string, Schema> }).shape : undefined;
}

/** The object an array holds, if it holds objects. */
function elementShapeOf(schema: Schema): Record<string, Schema> | undefined {
    const { inner } = unwrap(schema);
    const def = defOf(inner);
    return def.type === "array" ? shapeOf(def.element!) : undefined;
}

// --- descriptions: the JSDoc comments above the fields in the schema's source ---

const sources = new Map<string, ts.SourceFile>();
function sourceFile(file: string): ts.SourceFile {
    let source = sources.get(file);
    if (!source) {
        source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
        sources.set(file, source);
    }
    return source;
}

/** Where a name is defined: a `const` of this file, or followed through a relative import. */
function resolveConst(file: string, name: string): { file: string; init: ts.Expression } | undefined {
    const source = sourceFile(file);
    for (const statement of source.statements) {
        if (ts.isVariableStatement(statement)) {
            for (const decl of statement.declarationList.declarations) {
                if (ts.isIdentifier(decl.name) && decl.name.text === name && decl.initializer) return { file, init: decl.initializer };
            }
        }
        if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && statement.moduleSpecifier.text.startsWith(".")) {
            const bindings = statement.importClause?.namedBindings;
            if (bindings && ts.isNamedImports(bindings) && bindings.elements.some((e) => e.name.text === name)) {
                return resolveConst(path.resolve(path.dirname(file), `${statement.moduleSpecifier.text}.ts`), name);
            }
        }
    }
    return undefined;
}

/** The object literal of the `z.object({...})` an expression is built on (through method chains, names and `z.array(...)`). */
function objectLiteralOf(file: string, expr: ts.Expression): { file: string; literal: ts.ObjectLiteralExpression } | undefined {
    if (ts.isIdentifier(expr)) {
        const found = resolveConst(file, expr.text);
        return found ? objectLiteralOf(found.file, found.init) : undefined;
    }
    if (ts.isParenthesizedExpression(expr)) return objectLiteralOf(file, expr.expression);
    if (ts.isCallExpression(expr) && ts.isPropertyAccessExpression(expr.expression)) {
        const callee = expr.expression;
        if (callee.name.text === "object" && ts.isIdentifier(callee.expression) && callee.expression.text === "z") {
            const arg = expr.arguments[0];
            return arg && ts.isObjectLiteralExpression(arg) ? { file, literal: arg } : undefined;
        }
        if (callee.name.text === "array" && ts.isIdentifier(callee.expression) && callee.expression.text === "z" && expr.arguments[0]) {
            return objectLiteralOf(file, expr.arguments[0]);
        }
        return objectLiteralOf(file, callee.expression);
    }
    return undefined;
}

function jsDocText(node: ts.Node): string {
    const docs = (node as unknown as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
    return docs
        .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? "")
        .join(" ")
        .replace(/\s+/g, " ")
        .trim();
}

interface FieldSource {
    doc: string;
    init?: ts.Expression;
    file: string;
}
function fieldsOf(found: { file: string; literal: ts.ObjectLiteralExpression } | undefined): Map<string, FieldSource> {
    const fields = new Map<string, FieldSource>();
    if (!found) return fields;
    for (const property of found.literal.properties) {
        if (ts.isPropertyAssignment(property) && (ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) {
            fields.set(property.name.text, { doc: jsDocText(property), init: property.initializer, file: found.file });
        } else if (ts.isShorthandPropertyAssignment(property)) {
            fields.set(property.name.text, { doc: jsDocText(property), init: property.name, file: found.file });
        }
    }
    return fields;
}

// --- the table ---

interface Row {
    field: string;
    type: string;
    default: string;
    description: string;
}

function formatDefault(value: unknown, optional: boolean): string {
    if (value === undefined) return optional ? "" : "required";
    if (typeof value === "object" && value !== null && Object.keys(value).length === 0) return Array.isArray(value) ? "`[]`" : "`{}`";
    return `\`${JSON.stringify(value)}\``;
}

function rowsOf(shape: Record<string, Schema>, sourceFields: Map<string, FieldSource>, prefix: string, depth: number, collapse: string[]): Row[] {
    const rows: Row[] = [];
    for (const [key, field] of Object.entries(shape)) {
        const { optional, default: dflt } = unwrap(field);
        const source = sourceFields.get(key);
        const object = shapeOf(field);
        const elements = elementShapeOf(field);
        rows.push({
            field: `\`${prefix}${key}\``,
            type: object ? "object" : typeName(field),
            default: formatDefault(dflt, optional),
            description: source?.doc ?? "",
        });
        const nested = object ?? elements;
        const path = `${prefix}${key}`;
        if (nested && depth < MAX_DEPTH && !collapse.includes(path)) {
            const nestedSource = source?.init ? fieldsOf(objectLiteralOf(source.file, source.init)) : new Map();
            rows.push(...rowsOf(nested, nestedSource, object ? `${path}.` : `${path}[].`, depth + 1, collapse));
        }
    }
    return rows;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\\\\\|/g, "\\|");

/** The Markdown table of one resource's inputs. */
export async function inputsTable(table: InputsTable): Promise<string> {
    const file = path.join(ROOT, table.module);
    const schema = ((await import(file)) as Record<string, Schema>)[table.schema];
    const shape = shapeOf(schema);
    if (!shape) throw new Error(`${table.module}: ${table.schema} is not a z.object`);
    const rows = rowsOf(
        shape,
        fieldsOf(objectLiteralOf(file, ts.factory.createIdentifier(table.schema))),
        table.prefix ?? "",
        1,
        table.collapse ?? [],
    );
    const lines = [
        `Generated by \`scripts/gen-docs\` from \`${table.schema}\` in [\`${table.module}\`](../../${table.module}): edit the schema and its comments, not this table.`,
        "",
        "| field | type | default | description |",
        "| --- | --- | --- | --- |",
        ...rows.map((r) => `| ${r.field} | ${r.type.includes("\\|") ? r.type : cell(r.type)} | ${r.default} | ${cell(r.description)} |`),
    ];
    return lines.join("\n");
}

const begin = (name: string) => `<!-- inputs: ${name} -->`;
const END = "<!-- /inputs -->";

/** The page's text with its table regenerated (the page must hold the two markers). */
export async function regeneratePage(table: InputsTable, text: string): Promise<string> {
    const start = text.indexOf(begin(table.name));
    const end = text.indexOf(END, start);
    if (start < 0 || end < 0) throw new Error(`${table.page}: no "${begin(table.name)}" ... "${END}" markers`);
    return `${text.slice(0, start + begin(table.name).length)}\n${await inputsTable(table)}\n${text.slice(end)}`;
}

/** `--check`: list the pages that differ; otherwise rewrite them. */
export async function main(args: string[]): Promise<number> {
    const check = args.includes("--check");
    const stale: string[] = [];
    for (const table of INPUTS_TABLES) {
        const page = path.join(ROOT, table.page);
        const text = fs.readFileSync(page, "utf8");
        const fresh = await regeneratePage(table, text);
        if (fresh === text) continue;
        stale.push(table.page);
        if (!check) fs.writeFileSync(page, fresh);
    }
    if (check && stale.length) {
        console.error(`gen-docs: out of date (run scripts/gen-docs): ${stale.join(", ")}`);
        return 1;
    }
    if (!check) console.error(stale.length ? `gen-docs: rewrote ${stale.join(", ")}` : "gen-docs: every page up to date");
    return 0;
}

if (require.main === module) main(process.argv.slice(2)).then((code) => process.exit(code));
