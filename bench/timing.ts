import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/**
 * CPU seconds (user + system) of this process's waited-for children and theirs: the pulumi CLI, its
 * language host, the program and the dynamic-provider process. Less bent by other load on the
 * machine than wall time.
 */
export function childrenCpuSeconds(): number {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS; // cutime, cstime: fields 16 and 17 of proc(5)
}

/** Runs `fn`: its result, wall seconds and the CPU seconds of the processes it started. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
    const started = process.hrtime.bigint();
    const cpuBefore = childrenCpuSeconds();
    const result = await fn();
    return [result, Number(process.hrtime.bigint() - started) / 1e9, childrenCpuSeconds() - cpuBefore];
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
/** The median of one column (0: wall, 1: CPU) of a figure's runs. */
export const medianOf = (runs: Array<[number, number]>, column: 0 | 1) => median(runs.map((r) => r[column]));
