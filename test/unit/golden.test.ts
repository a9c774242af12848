import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { golden } from "./support/golden";

describe("golden files", () => {
    it("a missing golden file fails the test and is not written", () => {
        const dir = mkdtempSync(join(tmpdir(), "golden-"));
        const path = join(dir, "missing.ps1");
        const saved = process.env.UPDATE_GOLDEN;
        delete process.env.UPDATE_GOLDEN;
        try {
            expect(() => golden(path, "anything")).toThrow(/golden file .*missing\.ps1 is missing/);
            expect(existsSync(path)).toBe(false);
        } finally {
            if (saved !== undefined) process.env.UPDATE_GOLDEN = saved;
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
