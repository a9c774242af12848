import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden, WINDOWS_FIXTURES } from "./windowsFixtures";

describe("golden files", () => {
    it("a missing golden file fails the test and is not written", () => {
        const name = "no-such-golden.ps1";
        const saved = process.env.UPDATE_GOLDEN;
        delete process.env.UPDATE_GOLDEN;
        try {
            expect(() => expectGolden(name, "anything")).toThrow(/golden file no-such-golden\.ps1 is missing/);
            expect(existsSync(join(WINDOWS_FIXTURES, name))).toBe(false);
        } finally {
            if (saved !== undefined) process.env.UPDATE_GOLDEN = saved;
        }
    });
});
