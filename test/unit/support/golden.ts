import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { expect } from "vitest";

/**
 * Compares `text` with the golden file at `path`. UPDATE_GOLDEN=1 rewrites it (review the diff);
 * a missing golden file fails: it never writes itself, or the first run would pass whatever it says.
 */
export function golden(path: string, text: string) {
    if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
    if (!existsSync(path)) throw new Error(`golden file ${path} is missing: write it with UPDATE_GOLDEN=1 and review it`);
    expect(text).toBe(readFileSync(path, "utf8"));
}
