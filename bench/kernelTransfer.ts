/**
 * Benchmark: the same client fetches the same kernel and initrds over TFTP and over HTTP, in one
 * boot (not a test: it prints figures, asserts nothing).
 *
 *   NETBOOT_LAB_ID=1 npx ts-node --transpile-only bench/kernelTransfer.ts     (or scripts/bench-transfer)
 *
 * A stack with one image, kernels served by lighttpd too (boot.http), and a menu entry of ours
 * ("transfer-bench") that is the site's default entry: an unknown MAC boots straight into it
 * (menu hidden). The entry's iPXE commands fetch vmlinuz, ltsp.img and initrd.img with
 * `imgfetch` over tftp:// and over http://, in alternating order (TFTP, HTTP, HTTP, TFTP), with
 * an `echo` before and after each round. The host reads the client's serial console as it is
 * written and times each round from the first appearance of its two echo lines (50 ms polling).
 * QEMU runs under TCG here (no KVM), so absolute figures are slower than real hardware; both
 * transports run on the same emulated NIC, in the same boot, against the same server.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { TestStack, labSsh, labStackConfig, labUp } from "../test/lab/harness";

const MAC = "52:54:00:be:00:01";
const IMAGE = "bench";
const ROUNDS: Array<"tftp" | "http"> = ["tftp", "http", "http", "tftp"];
const FILES = [`ltsp/${IMAGE}/vmlinuz`, "ltsp/ltsp.img", `ltsp/${IMAGE}/initrd.img`];

function benchScript(): string[] {
    const lines: string[] = [];
    ROUNDS.forEach((proto, i) => {
        lines.push(`echo BENCH-BEGIN ${proto} ${i}`);
        for (const file of FILES) lines.push(`imgfetch ${proto}://\${srv}/${file}`);
        lines.push(`echo BENCH-END ${proto} ${i}`, "imgfree");
    });
    lines.push("echo BENCH-DONE", "shell");
    return lines;
}

/** Polls the console log and notes when each BENCH line first appears. */
function watch(logFile: string): { seen: Map<string, number>; stop: () => void } {
    const seen = new Map<string, number>();
    const timer = setInterval(() => {
        if (!existsSync(logFile)) return;
        const now = process.hrtime.bigint();
        for (const match of readFileSync(logFile, "latin1").matchAll(/BENCH-(?:BEGIN|END) \w+ \d+|BENCH-DONE/g)) {
            if (!seen.has(match[0])) seen.set(match[0], Number(now) / 1e9);
        }
    }, 50);
    return { seen, stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
    const env = await labUp(false);
    const stack = await TestStack.create(
        "transfer",
        labStackConfig(env, {
            images: [{ name: IMAGE, source: { debootstrap: { architecture: "amd64", initramfsModules: "netboot" } } }],
            nodes: [],
            ltspConf: { server: { menuTimeout: -1 } },
            boot: {
                rootTransport: "nbd",
                http: true,
                defaultEntry: "transfer-bench",
                menuEntries: [{ id: "transfer-bench", title: "Kernel transfer benchmark", script: benchScript() }],
            },
        }),
    );
    try {
        await stack.up();
        const sizes = (await labSsh(`cd /srv/tftp && stat -c '%s %n' ${FILES.join(" ")}`)).trim();
        const totalBytes = sizes.split("\n").reduce((n, l) => n + Number(l.split(" ")[0]), 0);
        const logFile = join(env.NETBOOT_LAB_RUN_DIR, "transfer-bench.log");
        const watcher = watch(logFile);
        // pxe-boot writes QEMU's console to --log as it runs; the watcher reads it meanwhile.
        const { spawn } = await import("node:child_process");
        const boot = await new Promise<number>((resolve) => {
            const child = spawn(join(__dirname, "..", "lab", "netboot-lab"), ["pxe-boot", "--mac", MAC, "--until", "BENCH-DONE", "--timeout", "900", "--log", logFile], {
                stdio: "ignore",
            });
            child.on("close", (code) => resolve(code ?? -1));
        });
        watcher.stop();
        if (boot !== 0) throw new Error(`the client did not finish the benchmark (console: ${logFile})`);
        const seconds = ROUNDS.map((proto, i) => {
            const begin = watcher.seen.get(`BENCH-BEGIN ${proto} ${i}`);
            const end = watcher.seen.get(`BENCH-END ${proto} ${i}`);
            if (begin === undefined || end === undefined) throw new Error(`round ${i} (${proto}) not seen on the console`);
            return { proto, seconds: end - begin };
        });
        const total = (proto: string) => seconds.filter((r) => r.proto === proto).reduce((n, r) => n + r.seconds, 0);
        const tftp = total("tftp");
        const http = total("http");
        const mb = totalBytes / 1e6;
        const row = (k: string, v: string) => console.log(`${k.padEnd(52)} ${v}`);
        console.log(`\nkernel + initrds over TFTP vs HTTP: one BIOS client (SeaBIOS, iPXE ROM, TCG), lab ${env.NETBOOT_LAB_ID}`);
        for (const line of sizes.split("\n")) row(`  ${line.split(" ")[1]}`, `${line.split(" ")[0]} bytes`);
        for (const [i, r] of seconds.entries()) row(`round ${i}: ${r.proto}`, `${r.seconds.toFixed(2)} s (${(mb / r.seconds).toFixed(2)} MB/s)`);
        row("TFTP, 2 rounds", `${tftp.toFixed(2)} s`);
        row("HTTP, 2 rounds", `${http.toFixed(2)} s`);
        row("ratio TFTP time / HTTP time", (tftp / http).toFixed(2));
    } finally {
        await stack.destroy();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
