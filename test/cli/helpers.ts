import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type Run, run } from "../lab/harness";

/**
 * Helpers for CLI tests that need no lab: the real pinned Pulumi CLI, a file:// backend and a
 * passphrase of their own in a temporary directory, programs that touch no host.
 */
export const ROOT = resolve(__dirname, "..", "..");

let toolchainBin: string | undefined;

/** The pinned CLI's bin directory (scripts/toolchain.sh builds it once; it is quick when it is there). */
export function pulumiBin(): string {
    toolchainBin ??= execFileSync(join(ROOT, "scripts", "toolchain.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    return toolchainBin;
}

export function scratchDir(label: string): string {
    return mkdtempSync(join(tmpdir(), `netboot-${label}-`));
}

/** A Pulumi environment with its own state directory and passphrase; nothing downloads, nothing checks for updates. */
export function pulumiEnv(stateDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    mkdirSync(stateDir, { recursive: true });
    return {
        ...process.env,
        PATH: `${pulumiBin()}:${process.env.PATH}`,
        PULUMI_BACKEND_URL: `file://${stateDir}`,
        PULUMI_CONFIG_PASSPHRASE: randomBytes(8).toString("hex"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        ...extra,
    };
}

/** Runs pulumi in `cwd`; throws with the output's tail unless it exits as expected. */
export async function pulumi(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[], expectCode = 0): Promise<Run> {
    const result = await run("pulumi", [...args, "--non-interactive"], { cwd, env, timeoutMs: 10 * 60_000 });
    if (result.code !== expectCode) {
        throw new Error(`pulumi ${args.join(" ")} in ${cwd} exited ${result.code} (expected ${expectCode}):\n${result.output.slice(-6000)}`);
    }
    return result;
}

/**
 * A copy of this checkout's files at `dir`, as a clone of the working tree would have them
 * (tracked and untracked files git does not ignore), sharing this checkout's node_modules.
 */
export function cloneCheckout(dir: string): string {
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
        .split("\0")
        .filter((f) => f && f !== "node_modules");
    for (const file of files) {
        mkdirSync(join(dir, dirname(file)), { recursive: true });
        try {
            copyFileSync(join(ROOT, file), join(dir, file));
            chmodSync(join(dir, file), statSync(join(ROOT, file)).mode);
        } catch (error) {
            // A file deleted in the working tree but still in the index: a clone would not have it either.
            if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
    }
    symlinkSync(realpathSync(join(ROOT, "node_modules")), join(dir, "node_modules"));
    return dir;
}

/** Writes `files` (path relative to `dir` -> content) into `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
    for (const [file, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), content);
    }
}
