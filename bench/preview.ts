/**
 * Preview benchmark (figures, not assertions): `pulumi preview` of the dev stack (Pulumi.dev.yaml:
 * the lab site, 4 resources), side by side in one run, the ways the program can be run:
 *
 *   configured       Pulumi.yaml as it is (tsx, lib/runtime/lazySdk.ts)
 *   transpile-only   the earlier Pulumi.yaml (`typescript: true`: Pulumi's ts-node) with
 *                    PULUMI_NODEJS_TRANSPILE_ONLY=true, the earlier fast way
 *   type-checking    the earlier Pulumi.yaml as a reviewer ran it: ts-node type-checks the program.
 *                    Given the project's tsconfig.json (PULUMI_NODEJS_TSCONFIG_PATH): without it
 *                    ts-node, started in stacks/, found none and failed on Object.hasOwn (TS2550)
 *   engine floor     as configured, with a program that only loads @pulumi/pulumi and registers
 *                    nothing: the CLI, language host, node and SDK, which no program setting removes
 *
 *   scripts/bench preview [--rounds 5]
 *
 * No lab needed: each way previews in its own copy of this checkout with its own file:// state,
 * and the dev stack's preview opens no SSH connection (its resources are to be created: the
 * dynamic provider checks their inputs, nothing is read from a host). Each round runs every way
 * once, in a rotated order (load drifts hit all); one warm-up round first (tsx's transform cache,
 * the OS file cache) is not counted. Wall seconds and CPU seconds (user + system of the CLI and
 * every process it waited for), medians of the rounds, and their ratios to "configured".
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { cloneCheckout, pulumi, pulumiEnv, ROOT, scratchDir } from "../test/cli/helpers";
import { medianOf, timed } from "./timing";

const { values } = parseArgs({ args: process.argv.slice(2), options: { rounds: { type: "string", default: "5" } } });
const ROUNDS = Number(values.rounds);
/** The dev stack's passphrase is public (scripts/up): it guards only the lab's throwaway key. */
const DEV_PASSPHRASE = "netboot-lab-dev";
/** What a reviewer waits for, at most (issue 18). */
const TARGET_SECONDS = 3;

interface Way {
    name: string;
    /** Changes to the copy's Pulumi.yaml (parsed). */
    project?: (project: Record<string, any>) => void;
    env?: NodeJS.ProcessEnv;
    /** Files written into the copy. */
    files?: Record<string, string>;
}

const earlierRuntime = (project: Record<string, any>) => {
    project.runtime.options = { typescript: true };
};

const WAYS: Way[] = [
    { name: "configured" },
    { name: "transpile-only", project: earlierRuntime, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } },
    { name: "type-checking", project: earlierRuntime, env: { PULUMI_NODEJS_TSCONFIG_PATH: join("..", "tsconfig.json") } },
    {
        name: "engine floor",
        project: (project) => {
            project.main = "stacks/floor.js";
        },
        files: { "stacks/floor.js": 'require("@pulumi/pulumi");\nmodule.exports = {};\n' },
    },
];

async function prepare(way: Way, scratch: string) {
    const dir = cloneCheckout(join(scratch, way.name.replace(/ /g, "-")));
    const project = parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8"));
    way.project?.(project);
    writeFileSync(join(dir, "Pulumi.yaml"), stringify(project));
    for (const [file, content] of Object.entries(way.files ?? {})) writeFileSync(join(dir, file), content);
    const env = pulumiEnv(join(dir, ".pulumi-state"), { PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE, NO_COLOR: "1", ...way.env });
    // Pulumi.dev.yaml carries the stack's salt: the stack is made anew in this state with the same passphrase.
    await pulumi(dir, env, ["stack", "init", "dev"]);
    return { dir, env };
}

async function main(): Promise<void> {
    const scratch = scratchDir("bench-preview");
    try {
        await measure(scratch);
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}

async function measure(scratch: string): Promise<void> {
    const prepared = await Promise.all(WAYS.map((way) => prepare(way, scratch)));
    const runs: Array<Array<[number, number]>> = WAYS.map(() => []);
    for (let round = 0; round <= ROUNDS; round++) {
        for (let k = 0; k < WAYS.length; k++) {
            const i = (round + k) % WAYS.length;
            const { dir, env } = prepared[i];
            const [result, wall, cpu] = await timed(() => pulumi(dir, env, ["preview", "--stack", "dev"]));
            if (WAYS[i].name !== "engine floor" && !/\+ 4 to create/.test(result.output)) {
                throw new Error(`${WAYS[i].name}: the preview did not plan the dev stack's 4 resources:\n${result.output.slice(-3000)}`);
            }
            console.error(`preview: round ${round || "warm-up"} ${WAYS[i].name} ${wall.toFixed(1)} s (CPU ${cpu.toFixed(1)} s)`);
            if (round > 0) runs[i].push([wall, cpu]);
        }
    }
    const configured = runs[0];
    const rows = WAYS.map((way, i) => {
        const wall = medianOf(runs[i], 0);
        const cpu = medianOf(runs[i], 1);
        const wallRatio = wall / medianOf(configured, 0);
        const cpuRatio = cpu / medianOf(configured, 1);
        return `| ${way.name} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${wallRatio.toFixed(2)} | ${cpuRatio.toFixed(2)} |`;
    });
    const load = loadavg()
        .map((l) => l.toFixed(1))
        .join(" ");
    console.log(
        [
            `\nPreview of the dev stack (4 resources, nothing deployed), ${ROUNDS} rounds, median; ratios to "configured".`,
            `Checkout ${ROOT}; Node ${process.version}; load average ${load}.\n`,
            "| way | wall s | CPU s | wall / configured | CPU / configured |",
            "| --- | ---: | ---: | ---: | ---: |",
            ...rows,
            `\nTarget: at most ${TARGET_SECONDS} s wall for "configured" on an unloaded machine (CPU s is the load-independent figure).`,
        ].join("\n"),
    );
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
