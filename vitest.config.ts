import { defineConfig } from "vitest/config";

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
