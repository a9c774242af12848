import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labSsh, labStackConfig, labUp, listeners, loginPrompt, outsiderReads, ROOT, run, serialLoginLtspConf, TestStack } from "./harness";

/**
 * The render and compute sites of issue 9 on the lab, one image build and one round of boots:
 * the LTSP server runs slurmctld (configless, dynamic nodes) and the shared output directory (an
 * rsync module); three TCG clients boot the site's image side by side over NBD:
 * - an unknown MAC (no config names it): boots the menu's default entry and joins the queue by itself;
 * - a pinned fast node;
 * - a pinned slow node (ltspConf MOSIX "N", as seed 001 marked them): a terminal, slurmd and munged
 *   masked, and the munge key's door refuses its MAC;
 * - no image holds the munge key: a machine on the LAN that is no node reads every export and
 *   finds no key, no hash; the nodes that join get the key from the door at boot.
 * A render job submitted on the server with sbatch runs on a node and its frame lands on the
 * server; refresh (running the program) lists the node that joined; `srun -N2 hostname` prints
 * exactly the two fast nodes; then the same stack as `netboot:site: compute` (same image,
 * same controller) is applied and srun asked again.
 *
 * The clients stay up while the test works on the server: each boot runs until the test stops
 * it (by the pid file netboot-lab keeps for it), its console read from netboot-lab's log file.
 */
const FAST_MAC = "52:54:00:c9:00:01";
const SLOW_MAC = "52:54:00:c9:00:03";
const UNKNOWN_MAC = "52:54:00:c9:00:99";

/** A tiny POV-Ray scene: one sphere, one light; rendered at 8x8 with one sample per pixel. */
const SCENE = `camera { location <0, 0, -3> look_at <0, 0, 0> }
light_source { <2, 4, -3> color rgb <1, 1, 1> }
sphere { <0, 0, 0>, 1 pigment { color rgb <1, 0.4, 0.1> } }
`;

function siteConfig(env: Record<string, string>, site: "render" | "compute") {
    const base = labStackConfig(env);
    return {
        ...base,
        site,
        // Unknown MACs see the menu for 3 s, then boot the default entry (the cluster image); serial console for the test.
        ltspConf: serialLoginLtspConf(3000),
        image: { name: "render", compression: "lz4" },
        cluster: { clusterName: "render", slurmdTimeout: 60 },
        nodes: [
            { hostname: "fast1", mac: FAST_MAC, kernelParameters: "console=ttyS0", menuTimeout: -1 },
            { hostname: "slow1", mac: SLOW_MAC, kernelParameters: "console=ttyS0", menuTimeout: -1, ltspConf: { MOSIX: "N" } },
        ],
    };
}

interface Client {
    mac: string;
    log: string;
    done: Promise<{ code: number; console: string }>;
}

/** Boots a QEMU client that runs until `stopClient` (or the bound, 25 min, as every lab boot is bounded). */
function bootClient(env: Record<string, string>, mac: string): Client {
    const id = mac.replace(/:/g, "").slice(-6);
    const log = join(env.NETBOOT_LAB_RUN_DIR, `pxe-${id}.log`);
    const args = ["pxe-boot", "--mac", mac, "--memory", "768", "--timeout", "1500", "--until", "netboot-test: never printed"];
    const done = run(join(ROOT, "lab", "netboot-lab"), args, { timeoutMs: 1_560_000 }).then((r) => ({ code: r.code, console: r.stdout }));
    return { mac, log, done };
}

function consoleOf(client: Client): string {
    return existsSync(client.log)
        ? readFileSync(client.log, "utf8")
              .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
              .replace(/\r/g, "")
        : "";
}

async function stopClient(env: Record<string, string>, client: Client): Promise<string> {
    const pidFile = join(env.NETBOOT_LAB_RUN_DIR, `client-${client.mac.replace(/:/g, "").slice(-6)}.pid`);
    if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, "utf8").trim());
        if (pid > 0) {
            try {
                process.kill(pid, "SIGTERM");
            } catch {
                // already gone
            }
        }
    }
    return (await client.done).console;
}

async function waitFor<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
    const until = Date.now() + seconds * 1000;
    for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > until) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 3000));
    }
}

describe("render and compute sites: nodes PXE-boot the Slurm image, join the queue by themselves, render a frame", () => {
    let env: Record<string, string>;
    let stack: TestStack;
    let clients: Client[] = [];
    const mungeKey = randomBytes(48).toString("base64");
    const started = Date.now();

    beforeAll(async () => {
        env = await labUp(true);
        stack = await TestStack.create("render", siteConfig(env, "render"));
        await stack.pulumi(["config", "set", "--secret", "netboot:mungeKey", mungeKey]);
    });

    afterAll(async () => {
        for (const c of clients) await stopClient(env, c);
        console.log(`render.lab.test.ts wall time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    });

    it(
        "up: controller, image and server; slurmctld runs configless with dynamic nodes; the key is nowhere in state or output",
        async () => {
            const up = await stack.up();
            expect(await labSsh("systemctl is-active munge slurmctld rsync nbd-server dnsmasq")).toBe("active\nactive\nactive\nactive\nactive\n");
            const conf = await labSsh("cat /etc/slurm/slurm.conf");
            expect(conf).toContain("SlurmctldParameters=enable_configless");
            expect(conf).toContain("SlurmctldHost=ltsp-lab");
            expect(conf).toMatch(/^MaxNodeCount=1024$/m);
            expect(conf).toMatch(/^Nodeset=render Feature=render$/m);
            // The nodes' services listen only on the node LAN (issue 17): the rsync daemon (873) and nbd-server
            // (10809) on the server's LAN address; slurmctld (6817) on every address: Slurm cannot bind it (slurm.conf says why).
            const lan = env.NETBOOT_LAB_SERVER_LAN_ADDR.replace(/\./g, "\\.");
            for (const [port, process] of [
                [873, "rsync"],
                [10809, "nbd-server"],
            ] as const) {
                const lines = await listeners(port);
                console.log(`ss -ltnp 'sport = :${port}':\n  ${lines.join("\n  ")}`);
                expect(lines.length).toBeGreaterThan(0);
                for (const line of lines) expect(line).toMatch(new RegExp(`^${lan}:${port} users:\\(\\("${process}"`));
            }
            console.log(`ss -ltnp 'sport = :6817':\n  ${(await listeners(6817)).join("\n  ")}`);
            // The image has no munge key (issue 17): munged fetches it from the server's key door at boot.
            // No slurm.conf either (configless).
            const image = await labSsh(
                "ls /srv/ltsp/render/etc/munge/munge.key 2>&1 || true; ls /srv/ltsp/render/etc/slurm/slurm.conf 2>&1 || true; cat /var/lib/netboot/doors/munge/allow; stat -c '%U:%G %a' /var/lib/netboot/doors/munge/secret; sha256sum </var/lib/netboot/doors/munge/secret; sha256sum </etc/munge/munge.key",
            );
            const lines = image.trim().split("\n");
            expect(lines[0]).toMatch(/No such file/);
            expect(lines[1]).toMatch(/No such file/);
            // Any machine may join (the render farm's plugging in); the pinned terminal never gets the key.
            expect(lines.slice(3, 5)).toEqual([`deny ${SLOW_MAC}`, "allow any"]);
            expect(lines[5]).toBe("root:netboot-door-munge 440");
            expect(lines[6]).toBe(lines[7]);
            // A machine on the LAN that is no node reads every export whole and finds no key and no hash; it
            // knocks on the door with the image's asking key under the terminal's MAC and is refused.
            const outsider = await outsiderReads(env, SLOW_MAC, [mungeKey]);
            console.log(`outsider on the LAN:\n  ${outsider.output.trim().split("\n").join("\n  ")}`);
            expect(Object.keys(outsider.read)).toContain("render");
            expect(outsider.secrets).toEqual([]);
            expect(outsider.hashes).toEqual([]);
            expect(outsider.privateKeys).toEqual(["render /etc/netboot/doors/munge/request"]);
            expect(outsider.doors).toEqual({ "render munge": 3 });
            expect(await labSsh("journalctl -t netboot-door --no-pager -o cat")).toContain(`munge: refused to ${SLOW_MAC} at `);
            expect(await labSsh("printf '%s' \"$(cat /etc/munge/munge.key)\"")).toBe(mungeKey);
            const state = await stack.exportState();
            expect(state).not.toContain(mungeKey);
            expect(up.output).not.toContain(mungeKey);
            const preview = await stack.preview();
            expect(preview.output).not.toContain(mungeKey);
            console.log(`up: ${((Date.now() - started) / 1000).toFixed(0)} s since start`);
        },
        40 * 60_000,
    );

    it(
        "an unknown MAC, a pinned fast node and a pinned slow node boot side by side; the fast two join, the slow one is a terminal",
        async () => {
            const bootsStarted = Date.now();
            clients = [bootClient(env, UNKNOWN_MAC), bootClient(env, FAST_MAC), bootClient(env, SLOW_MAC)];
            const [unknown, fast, slow] = clients;
            const nodes = await waitFor("two idle nodes in sinfo", 1200, async () => {
                const out = await labSsh("sinfo -N -h -o '%N %t' 2>/dev/null || true");
                const idle = out
                    .trim()
                    .split("\n")
                    .filter((l) => / idle$/.test(l))
                    .map((l) => l.split(" ")[0]);
                return idle.length >= 2 ? idle : undefined;
            });
            // The three boot side by side under TCG, on a machine whose other core runs the other lab group:
            // the slow node's prompt is bounded from the boots' start like the joins, not from the joins.
            const leftForSlow = Math.max(300, 1500 - (Date.now() - bootsStarted) / 1000);
            await waitFor("the slow node's login prompt", leftForSlow, async () =>
                loginPrompt("slow1").test(consoleOf(slow)) ? true : undefined,
            ).catch((error: Error) => {
                throw new Error(`${error.message}; its console ends:\n${consoleOf(slow).split("\n").slice(-40).join("\n")}`);
            });
            console.log(`joined: ${nodes.join(" ")} (${((Date.now() - started) / 1000).toFixed(0)} s since start)`);
            expect(nodes).toContain("fast1");
            expect(nodes).not.toContain("slow1");
            const unknownName = nodes.find((n) => n !== "fast1")!;
            expect(unknownName).toMatch(/^ltsp\d+$/); // LTSP's default name for a client no ltsp.conf section names
            expect(consoleOf(slow)).toContain("netboot-slurm: MOSIX=N: slurmd and munged masked, slow1 is a terminal");
            // That line is the image's own script's, printed whether or not the mask holds. slurmd never ran on slow1:
            // after its login prompt the controller has never heard of it (a dynamic node exists only once its slurmd
            // registers), while it knows the fast node.
            expect(await labSsh("scontrol show node slow1 2>&1 || true")).toMatch(/^Node slow1 not found/m);
            expect(await labSsh("scontrol show node fast1 2>&1 || true")).toMatch(/^NodeName=fast1 /m);
            // The key came from the door to the two that joined, never to the terminal (its MAC is denied).
            const doorLog = await labSsh("journalctl -t netboot-door --no-pager -o cat");
            console.log(`the munge key's door:\n  ${doorLog.trim().split("\n").join("\n  ")}`);
            for (const mac of [FAST_MAC, UNKNOWN_MAC]) expect(doorLog).toContain(`munge: given to ${mac} at `);
            expect(doorLog).not.toContain(`munge: given to ${SLOW_MAC}`);
            expect(consoleOf(fast)).toContain("netboot-door: the munge key came from");
            expect(consoleOf(unknown)).toContain(`netboot-slurm: ${unknownName} joins cluster render`);
            expect(consoleOf(fast)).toContain("netboot-slurm: fast1 joins cluster render");

            const srun = await labSsh("timeout 120 srun -N2 hostname | sort");
            console.log(`srun -N2 hostname:\n${srun}`);
            expect(srun.trim().split("\n")).toEqual([unknownName, "fast1"].sort());

            // The render job: sbatch on the server, the node pulls the scene from and pushes the frame to the shared directory.
            await labSsh(`cat > /srv/render/scenes/tiny.pov <<'EOF'\n${SCENE}EOF`);
            const submitted = await labSsh(
                `sbatch --parsable -N1 --chdir=/tmp -o /tmp/slurm-%j.out -w ${unknownName} --wrap 'netboot-render tiny.pov'`,
            );
            const jobId = submitted.trim();
            const frame = await waitFor("the frame in /srv/render/frames", 300, async () => {
                const ls = await labSsh(`ls /srv/render/frames/ | grep '^tiny-${jobId}-' || true`);
                return ls.trim() || undefined;
            });
            const job = await labSsh(`scontrol show job ${jobId} | grep -oE '(JobState|BatchHost|NodeList)=[^ ]+' | sort -u`);
            // The PNG signature and the IHDR width and height (bytes 16-23), read by the lab server's python3 (it has no file(1)).
            const png = await labSsh(
                `python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("PNG" if d[:8]==b"\\x89PNG\\r\\n\\x1a\\n" else "not PNG", "%d x %d" % struct.unpack(">II", d[16:24]))' /srv/render/frames/${frame}; ls -l /srv/render/frames/${frame}`,
            );
            console.log(`job ${jobId}: ${job.trim().replace(/\n/g, " ")}\nframe on the server: ${png.trim()}`);
            expect(frame).toBe(`tiny-${jobId}-${unknownName}.png`);
            expect(png).toMatch(/^PNG 8 x 8$/m);
            expect(job).toContain(`BatchHost=${unknownName}`);

            // refresh running the program: the stack's outputs list the node that joined, its MAC from the leases, unpinned.
            await stack.pulumi(["refresh", "--yes", "--skip-preview", "--run-program"]);
            const outputs = await stack.outputs();
            const joined = outputs.cluster.joinedNodes as Array<{ name: string; mac: string | null; pinned: boolean; address: string }>;
            console.log(`refresh: cluster.joinedNodes = ${JSON.stringify(joined)}`);
            const listed = joined.find((n) => n.name === unknownName);
            expect(listed).toMatchObject({ mac: UNKNOWN_MAC, pinned: false });
            expect(joined.find((n) => n.name === "fast1")).toMatchObject({ mac: FAST_MAC, pinned: true });
            expect(joined.some((n) => n.name === "slow1")).toBe(false);
            // No config named the unknown MAC: not the stack's, not the server's ltsp.conf or menu.
            expect(JSON.stringify(siteConfig(env, "render"))).not.toContain(UNKNOWN_MAC);
            expect(await labSsh(`grep -rci '${UNKNOWN_MAC}' /etc/ltsp /srv/tftp/ltsp/ltsp.ipxe /etc/dnsmasq.d || true`)).not.toMatch(/:[1-9]/);

            // The same lab as the compute site (same image, same controller): only roles and outputs change, nothing is rebuilt.
            stack.writeConfig(siteConfig(env, "compute"));
            await stack.pulumi(["config", "set", "--secret", "netboot:mungeKey", mungeKey]);
            const up = await stack.up();
            expect(up.output).not.toMatch(/debootstrap|ltsp image render/);
            const again = await labSsh("timeout 120 srun -N2 hostname | sort");
            console.log(`compute site, srun -N2 hostname:\n${again}`);
            expect(again.trim().split("\n")).toEqual([unknownName, "fast1"].sort());
            expect(consoleOf(slow)).toMatch(loginPrompt("slow1"));
            // Minutes later, still never registered.
            expect(await labSsh("scontrol show node slow1 2>&1 || true")).toMatch(/^Node slow1 not found/m);
        },
        40 * 60_000,
    );
});
