/**
 * Benchmark of the boot model against the lab (not a test: it prints figures, asserts nothing).
 *
 *   scripts/bench            (sets up, brings the lab up, runs this with ts-node)
 *
 * 1. Build one image from scratch, then `up` again unchanged: build time vs. rebuild work.
 * 2. A generated stack of 200 nodes: state size per node (pulumi stack export).
 * 3. Change one node: resource updates, regenerations (ltsp ipxe / ltsp initrd) and mutating
 *    SSH commands (counted on the host), next to the same figures for creating all 200.
 */
import { randomBytes } from "node:crypto";
import { labSsh, labStackConfig, labUp, TestStack } from "../test/lab/harness";

const NODES = 200;

async function mutationLog(): Promise<string[]> {
    return (await labSsh("cat /var/log/netboot/mutations.log 2>/dev/null || true")).split("\n").filter(Boolean);
}

async function measure<T>(fn: () => Promise<T>): Promise<[T, number]> {
    const started = process.hrtime.bigint();
    const result = await fn();
    return [result, Number(process.hrtime.bigint() - started) / 1e9];
}

function work(lines: string[]) {
    return {
        mutating: lines.length,
        regenerations: lines.filter((l) => / ltsp (ipxe|initrd)$/.test(l)).length,
        imageBuilds: lines.filter((l) => / ltsp image /.test(l)).length,
    };
}

async function main(): Promise<void> {
    const env = await labUp(false);
    // A marker nobody built before, so the first `up` really builds.
    const marker = randomBytes(4).toString("hex");
    const nodes = Array.from({ length: NODES }, (_, i) => ({
        hostname: `node-${String(i + 1).padStart(3, "0")}`,
        mac: `52:54:00:c0:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`,
        image: "bench",
        role: "render-node",
    }));
    const stack = await TestStack.create(
        "bench",
        labStackConfig(env, {
            images: [
                {
                    name: "bench",
                    source: { debootstrap: { architecture: "amd64", initramfsModules: "netboot", extraFiles: { "/etc/bench": marker } } },
                },
            ],
            nodes,
        }),
    );
    try {
        let log = await mutationLog();
        const [, firstUp] = await measure(() => stack.up());
        const created = work((await mutationLog()).slice(log.length));
        const buildSeconds = (await stack.outputs()).images.bench.buildSeconds as number;

        log = await mutationLog();
        const [, unchangedUp] = await measure(() => stack.up());
        const unchanged = work((await mutationLog()).slice(log.length));
        const unchangedChanges = await stack.lastChanges();

        const state = JSON.parse(await stack.exportState());
        const resources: Array<{ type: string; outputs: { __provider?: string } }> = state.deployment.resources;
        const nodeResources = resources.filter((r) => r.type.endsWith("netboot:NodeAssignment"));
        const perNode = nodeResources.reduce((n, r) => n + JSON.stringify(r).length, 0) / nodeResources.length;
        const providerBytes = JSON.stringify(nodeResources[0].outputs.__provider).length;
        const totalState = JSON.stringify(state).length;

        await stack.setConfig("nodes[17].kernelParameters", "console=ttyS0");
        log = await mutationLog();
        const [, oneNodeUp] = await measure(() => stack.up());
        const oneNode = work((await mutationLog()).slice(log.length));
        const oneNodeChanges = await stack.lastChanges();

        const row = (k: string, v: string | number) => console.log(`${k.padEnd(58)} ${v}`);
        console.log(`\nboot model benchmark: 1 image, ${NODES} nodes, lab host ${env.NETBOOT_LAB_HOST}`);
        row("image build (ChrootImage.buildSeconds)", `${buildSeconds.toFixed(1)} s`);
        row("first up, image + 200 nodes + server (wall)", `${firstUp.toFixed(1)} s`);
        row("unchanged up (wall)", `${unchangedUp.toFixed(1)} s`);
        row("  ratio unchanged up / first up", (unchangedUp / firstUp).toFixed(3));
        row("  image builds / mutating commands in the unchanged up", `${unchanged.imageBuilds} / ${unchanged.mutating}`);
        row("  resource changes in the unchanged up", JSON.stringify(unchangedChanges));
        row("state: whole stack", `${totalState} bytes`);
        row("state: per NodeAssignment (inputs, outputs, provider)", `${Math.round(perNode)} bytes`);
        row("state: of which the serialized provider", `${providerBytes} bytes`);
        row("create all: mutating SSH commands / regenerations", `${created.mutating} / ${created.regenerations}`);
        row("one node changed: resource changes", JSON.stringify(oneNodeChanges));
        row("one node changed: regenerations (ltsp ipxe + ltsp initrd)", oneNode.regenerations);
        row("one node changed: mutating SSH commands", oneNode.mutating);
        row("  ratio mutating commands, one node / all 200 created", (oneNode.mutating / created.mutating).toFixed(3));
        row("one node changed (wall)", `${oneNodeUp.toFixed(1)} s`);
    } finally {
        await stack.destroy();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
