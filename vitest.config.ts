import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * The unit test files that run scripts in a fake host (test/unit/support/chrootHost.ts): they need
 * root, for chroot. Known by their import of it, so a new such file is counted without a list here.
 */
const UNIT = join(__dirname, "test", "unit");
const needRoot = readdirSync(UNIT)
    .filter((file) => file.endsWith(".test.ts") && /from "\.\/support\/chrootHost"/.test(readFileSync(join(UNIT, file), "utf8")))
    .map((file) => `test/unit/${file}`);

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    name: "unit",
                    include: ["test/unit/**/*.test.ts"],
                    // Some unit tests run real scripts in a fake host or over an in-process SSH
                    // server: seconds each, more on a loaded machine.
                    testTimeout: 60_000,
                },
            },
            {
                // The unit tests that need no root (all but the fake-host ones): for a machine where
                // the tests do not run as root, `vitest run --project pure --project cli`.
                test: {
                    name: "pure",
                    include: ["test/unit/**/*.test.ts"],
                    exclude: needRoot,
                    testTimeout: 60_000,
                },
            },
            {
                // The real Pulumi CLI with file:// backends in temporary directories, programs that
                // touch no host (state portability, the packed library): no lab needed.
                test: {
                    name: "cli",
                    include: ["test/cli/**/*.cli.test.ts"],
                    pool: "forks",
                    sequence: { concurrent: false },
                    testTimeout: 15 * 60_000,
                    hookTimeout: 15 * 60_000,
                },
            },
            {
                // The lab tests share one lab host and drive the real CLI: one file at a time,
                // tests in order, generous timeouts (a first run installs packages).
                test: {
                    name: "lab",
                    include: ["test/lab/**/*.lab.test.ts"],
                    pool: "forks",
                    poolOptions: { forks: { singleFork: true } },
                    sequence: { concurrent: false },
                    testTimeout: 15 * 60_000,
                    hookTimeout: 15 * 60_000,
                },
            },
        ],
    },
});
