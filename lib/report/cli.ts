#!/usr/bin/env node
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { inventoryFromState } from "../monitoring/inventory";
import { fileSdJson, inventoryCsv, inventoryJson } from "../monitoring/renderers";
import { renderReport } from "./markdown";
import { mergeState, parsePreview } from "./preview";

const USAGE = `usage:
  pr-report [--state EXPORT.json] [--title TEXT] [--max-chars N] [--max-node-lines N] [--max-diff-lines N] [--out FILE] [PREVIEW.json|-]
      Markdown for a pull-request comment from \`pulumi preview --json --diff\` (stdin when no file or "-").
      --state: \`pulumi stack export\` of the stack before the change, so unchanged resources are known too.
  pr-report monitoring --state EXPORT.json --site NAME [--port 9100] [--exporters-only] --out-dir DIR
      Writes DIR/file_sd.json (Prometheus file_sd), DIR/inventory.json and DIR/inventory.csv.
      --exporters-only: file_sd lists only the hosts the stack runs a node exporter on (LtspServer monitoring.nodeExporter).
`;

function readJson(path: string): unknown {
    const text = path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new Error(`${path === "-" ? "stdin" : path}: not JSON (${(error as Error).message}); give pulumi preview --json output`);
    }
}

function positiveInt(name: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: "${value}" is not a positive whole number`);
    return n;
}

function report(args: string[]): void {
    const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
            state: { type: "string" },
            title: { type: "string" },
            "max-chars": { type: "string" },
            "max-node-lines": { type: "string" },
            "max-diff-lines": { type: "string" },
            out: { type: "string" },
        },
    });
    if (positionals.length > 1) throw new Error(`one preview file at most, got ${positionals.length}`);
    let preview = parsePreview(readJson(positionals[0] ?? "-"));
    if (values.state) preview = mergeState(preview, readJson(values.state));
    const markdown = renderReport(preview, {
        title: values.title,
        maxChars: positiveInt("max-chars", values["max-chars"]),
        maxNodeLines: positiveInt("max-node-lines", values["max-node-lines"]),
        maxDiffLines: positiveInt("max-diff-lines", values["max-diff-lines"]),
    });
    if (values.out) writeFileSync(values.out, markdown);
    else process.stdout.write(markdown);
}

function monitoring(args: string[]): void {
    const { values } = parseArgs({
        args,
        options: {
            state: { type: "string" },
            site: { type: "string" },
            port: { type: "string" },
            "exporters-only": { type: "boolean" },
            "out-dir": { type: "string" },
        },
    });
    if (!values.state || !values.site || !values["out-dir"]) throw new Error("monitoring needs --state, --site and --out-dir");
    const inventory = inventoryFromState(values.site, readJson(values.state));
    const dir = values["out-dir"];
    mkdirSync(dir, { recursive: true });
    writeFileSync(
        join(dir, "file_sd.json"),
        fileSdJson(inventory, { port: positiveInt("port", values.port), exportersOnly: values["exporters-only"] }),
    );
    writeFileSync(join(dir, "inventory.json"), inventoryJson(inventory));
    writeFileSync(join(dir, "inventory.csv"), inventoryCsv(inventory));
    process.stderr.write(`pr-report: ${inventory.hosts.length} hosts written to ${dir}/{file_sd.json,inventory.json,inventory.csv}\n`);
}

function main(argv: string[]): number {
    if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(USAGE);
        return 0;
    }
    try {
        if (argv[0] === "monitoring") monitoring(argv.slice(1));
        else report(argv);
        return 0;
    } catch (error) {
        process.stderr.write(`pr-report: ${(error as Error).message}\n${USAGE}`);
        return 2;
    }
}

process.exitCode = main(process.argv.slice(2));
