/**
 * Benchmark of inventory loading (not a test: it prints figures, asserts nothing). No lab needed.
 *
 *   npx ts-node --transpile-only bench/inventory.ts
 *
 * For generated sites of 1400 and 10000 clients: file size, and time to parse and validate the
 * file as CSV and as YAML (median of 5 runs).
 */
import { parseInventory } from "../lib/inventory";
import { generateInventory } from "../lib/inventory/generate";

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

for (const count of [1400, 10000]) {
    for (const format of ["csv", "yaml"] as const) {
        const text = generateInventory({ count, format, images: ["thin", "fat"], subnet: "10.20.0.0/16", ipStart: "10.20.1.1", ltspEvery: 10 });
        const times: number[] = [];
        for (let run = 0; run < 5; run++) {
            const started = process.hrtime.bigint();
            parseInventory(`site.${format}`, text, { images: ["thin", "fat"] });
            times.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
        const bytes = Buffer.byteLength(text);
        console.log(
            `${String(count).padStart(5)} clients, ${format.padEnd(4)}: ${(bytes / 1024).toFixed(0).padStart(5)} KiB, ` +
                `load ${median(times).toFixed(0)} ms (${((median(times) / count) * 1000).toFixed(0)} µs per client)`,
        );
    }
}
