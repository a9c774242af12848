import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../lib/core/sha256";
import type { Step } from "../../lib/engine/steps";
import type { HostObservation } from "../../lib/host/observe";
import { doorFiles } from "../../lib/keydoor/door";
import {
    type ClusterSpec,
    controllerFiles,
    joinedNodes,
    mungeAllowList,
    nodeImageParts,
    parseDnsmasqLeases,
    parseScontrolNodes,
    validateCluster,
} from "../../lib/slurm/clusterSpec";
import { outputMarker, planController } from "../../lib/slurm/controllerApply";
import { type PinnedNodeInput, pinNodes } from "../../lib/slurm/nodeRoles";
import { TEST_KEY, TEST_PIN } from "./helpers";

const KEY = "k".repeat(40);

function clusterInputs(overrides: Record<string, unknown> = {}) {
    return {
        connection: { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
        controllerAddress: "10.213.1.1",
        clientNetwork: "10.213.1.0/24",
        mungeKey: KEY,
        ...overrides,
    };
}

function spec(overrides: Record<string, unknown> = {}): ClusterSpec {
    const v = validateCluster(clusterInputs(overrides));
    if (!v.ok) throw new Error(JSON.stringify(v.failures));
    return v.spec;
}

describe("SlurmController inputs", () => {
    it("a short munge key is refused without the key in the message", () => {
        const v = validateCluster(clusterInputs({ mungeKey: "short-secret-value" }));
        expect(v.ok).toBe(false);
        const text = JSON.stringify(v);
        expect(text).toContain("mungeKey");
        expect(text).toContain("shorter than 32 bytes");
        expect(text).not.toContain("short-secret-value");
    });

    it("a controller address outside the node LAN is refused", () => {
        const v = validateCluster(clusterInputs({ controllerAddress: "10.9.9.9" }));
        expect(v.ok).toBe(false);
        expect(JSON.stringify(v)).toContain("is not in clientNetwork 10.213.1.0/24");
    });
});

describe("slurm.conf and the node image", () => {
    it("slurm.conf is configless with dynamic nodes as slurm-wlm-doc dynamic_nodes.html asks", () => {
        const conf = controllerFiles(spec(), "ltsp-lab").find((f) => f.file.path === "/etc/slurm/slurm.conf")!.file.content;
        // Each line below is a requirement of the Slurm 22.05 docs: configless (enable_configless),
        // dynamic nodes (MaxNodeCount, cons_tres, TreeWidth=65533), partition by a Nodeset feature.
        for (const line of [
            "SlurmctldHost=ltsp-lab(10.213.1.1)",
            "SlurmctldParameters=enable_configless",
            "SelectType=select/cons_tres",
            "TreeWidth=65533",
            "MaxNodeCount=1024",
            "Nodeset=render Feature=render",
            "PartitionName=render Nodes=render Default=YES MaxTime=INFINITE State=UP",
        ]) {
            expect(conf.split("\n")).toContain(line);
        }
        expect(conf).not.toContain(KEY);
    });

    it("the munge key file is munge's, 0400; the rsync module admits the node LAN only", () => {
        const files = controllerFiles(spec(), "ltsp-lab");
        const key = files.find((f) => f.file.path === "/etc/munge/munge.key")!;
        expect(key).toMatchObject({ owner: "munge:munge", file: { mode: "0400", content: KEY } });
        const rsyncd = files.find((f) => f.file.path === "/etc/rsyncd.conf")!.file.content;
        expect(rsyncd).toContain("[render]\n    path = /srv/render\n");
        expect(rsyncd).toMatch(/^ {4}hosts allow = 10\.213\.1\.0\/24\n {4}hosts deny = \*$/m);
    });

    it("the image starts slurmd -Z with --conf-server and carries no munge key: munged fetches it from the door at start", () => {
        const { mungeKey: _k, connection: _c, ...layout } = spec();
        const parts = nodeImageParts(layout);
        expect(parts.extraFiles["/etc/default/slurmd"]).toContain('SLURMD_OPTIONS="-Z --conf-server 10.213.1.1 --conf Feature=render"');
        // Copied on the server: the door's asking key and the server's host key, never the munge key.
        expect(parts.serverFiles).toEqual({
            "/etc/netboot/doors/munge/request": "/var/lib/netboot/doors/munge/request",
            "/etc/netboot/doors/munge/known_hosts": "/var/lib/netboot/doors/munge/known_hosts",
        });
        expect(Object.keys(parts.extraFiles).filter((p) => p.startsWith("/etc/munge"))).toEqual([]);
        // munge's package makes a key of its own at install: it goes.
        expect(parts.postInstall).toContain("rm -f /etc/munge/munge.key");
        expect(parts.extraFiles["/etc/systemd/system/munge.service.d/netboot-door.conf"]).toMatch(
            /^ExecStartPre=\+\/bin\/sh \/usr\/local\/sbin\/netboot-fetch-secret munge 10\.213\.1\.1 \/etc\/munge\/munge\.key munge:munge 0400$/m,
        );
        expect(JSON.stringify(parts)).not.toContain(KEY);
        // Debian's slurmd.service has ConditionPathExists=/etc/slurm/slurm.conf; configless nodes have none.
        expect(parts.extraFiles["/etc/systemd/system/slurmd.service.d/netboot.conf"]).toMatch(/^ConditionPathExists=$/m);
        const hook = parts.extraFiles["/usr/share/ltsp/client/init/57-slurmnode.sh"];
        expect(hook).toContain('if [ "$MOSIX" = "N" ]; then');
        expect(hook).toContain("ln -sf /dev/null /etc/systemd/system/munge.service");
        expect(parts.packages).toEqual(expect.arrayContaining(["slurmd", "munge", "openssh-client", "povray", "rsync", "dbus"]));
    });

    it("the door's allow list: the site's terminals refused first, then the nodes or any machine", () => {
        expect(mungeAllowList(spec())).toBe(
            "# Managed by netboot: who may have the munge key (read by ./serve; the first rule that matches wins).\nallow any\n",
        );
        const listed = spec({ mungeKeyFor: ["52-54-00-00-0C-02", "52:54:00:00:0c:01"], mungeKeyNotFor: ["52:54:00:00:0c:03"] });
        expect(mungeAllowList(listed).split("\n").slice(1)).toEqual([
            "deny 52:54:00:00:0c:03",
            "allow 52:54:00:00:0c:01",
            "allow 52:54:00:00:0c:02",
            "",
        ]);
        expect(validateCluster(clusterInputs({ mungeKeyFor: ["everyone"] }))).toMatchObject({
            ok: false,
            failures: [{ reason: expect.stringMatching(/^mungeKeyFor\.0: "everyone" is neither a MAC address .* nor "any"/) }],
        });
        expect(validateCluster(clusterInputs({ mungeKeyFor: [] }))).toMatchObject({ ok: false });
    });
});

describe("planController", () => {
    const s = spec();
    const files = controllerFiles(s, "ltsp-lab");
    function seen(overrides: Partial<HostObservation> = {}): HostObservation {
        return {
            files: {
                ...Object.fromEntries(files.map((f) => [f.file.path, f.file.sha256])),
                [outputMarker(s)]: "x",
                // The door as key-door-setup.sh and the engine left it.
                "/var/lib/netboot/doors/munge/secret": sha256Hex(KEY),
                "/var/lib/netboot/doors/munge/from": sha256Hex("10.213.1.0/24\n"),
                ...Object.fromEntries(doorFiles("munge", mungeAllowList(s)).map((f) => [f.path, f.sha256])),
            },
            services: Object.fromEntries(["munge", "slurmctld", "rsync"].map((n) => [n, { active: "active", enabled: "enabled" }])),
            packages: { munge: "1", rsync: "1", "slurm-client": "1", slurmctld: "1" },
            ...overrides,
        };
    }

    it("nothing to do when the server matches", () => {
        expect(planController(s, "ltsp-lab", seen())).toEqual([]);
    });

    it("a fresh server: install, output directory, every file, restart and enable every service", () => {
        const steps = planController(
            s,
            "ltsp-lab",
            { files: {}, services: {}, packages: { munge: null, rsync: null, "slurm-client": null, slurmctld: null } },
            "http://10.213.0.1:3142",
        );
        expect(steps.map((x) => x.kind)).toEqual([
            "install",
            "run",
            "write",
            "write",
            "write",
            "run",
            "write",
            "write",
            "restart",
            "enable",
            "restart",
            "enable",
            "restart",
            "enable",
        ]);
        expect(steps[0]).toMatchObject({ aptProxy: "http://10.213.0.1:3142" });
    });

    const named = (x: Step) =>
        x.kind === "write" ? `write ${x.file.path}` : x.kind === "run" ? `run ${x.script}` : `${x.kind} ${"service" in x ? x.service : ""}`;

    it("a new key: the key is written, the door copies it, munge and slurmctld restart (both read it)", () => {
        const other = spec({ mungeKey: "z".repeat(40) });
        const steps = planController(other, "ltsp-lab", seen());
        expect(steps.map(named)).toEqual(["write /etc/munge/munge.key", "run key-door-setup", "restart munge", "restart slurmctld"]);
        expect(steps[1]).toMatchObject({
            args: ["munge", "/var/lib/netboot/doors/munge", "netboot-door-munge", "10.213.1.0/24", "/etc/munge/munge.key"],
        });
    });

    it("a node pinned as a terminal: only the door's allow list changes, nothing restarts", () => {
        const other = spec({ mungeKeyNotFor: ["52:54:00:00:0c:03"] });
        const steps = planController(other, "ltsp-lab", seen());
        expect(steps.map(named)).toEqual(["write /var/lib/netboot/doors/munge/allow"]);
        expect(steps[0]).toMatchObject({ file: { content: expect.stringContaining("\ndeny 52:54:00:00:0c:03\nallow any\n") } });
    });
});

describe("the nodes that joined", () => {
    // The line format of `scontrol show nodes --oneliner` (Slurm 22.05), fields as the lab's slurmctld printed them.
    const SCONTROL = [
        "NodeName=ltsp150 Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 CPUEfctv=1 CPUTot=1 CPULoad=0.40 AvailableFeatures=render ActiveFeatures=render Gres=(null) NodeAddr=10.213.5.150 NodeHostName=ltsp150 Version=22.05.8 OS=Linux State=IDLE+DYNAMIC_NORM ThreadsPerCore=1",
        "NodeName=fast1 Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 CPUEfctv=1 CPUTot=1 CPULoad=0.30 AvailableFeatures=render ActiveFeatures=render Gres=(null) NodeAddr=10.213.5.120 NodeHostName=fast1 Version=22.05.8 OS=Linux State=IDLE+DYNAMIC_NORM ThreadsPerCore=1",
    ].join("\n");
    // dnsmasq(8) lease file: expiry, MAC, IP, host name (* for none), client ID.
    const LEASES = "1795000000 52:54:00:c9:00:99 10.213.5.150 * 01:52:54:00:c9:00:99\n1795000001 52:54:00:c9:00:03 10.213.5.130 slow1 *\n";

    it("scontrol's one-liners, sorted by name", () => {
        expect(parseScontrolNodes(SCONTROL)).toEqual([
            { name: "fast1", address: "10.213.5.120", state: "IDLE+DYNAMIC_NORM", features: "render", cpus: 1 },
            { name: "ltsp150", address: "10.213.5.150", state: "IDLE+DYNAMIC_NORM", features: "render", cpus: 1 },
        ]);
        expect(parseScontrolNodes("No nodes in the system\n")).toEqual([]);
    });

    it("each node gets the MAC that leased its address, null without a lease", () => {
        expect(joinedNodes(SCONTROL, LEASES).map((n) => [n.name, n.mac])).toEqual([
            ["fast1", null],
            ["ltsp150", "52:54:00:c9:00:99"],
        ]);
        expect(parseDnsmasqLeases(LEASES)).toEqual([
            { mac: "52:54:00:c9:00:03", address: "10.213.5.130", hostname: "slow1" },
            { mac: "52:54:00:c9:00:99", address: "10.213.5.150", hostname: "" },
        ]);
    });
});

describe("pinned nodes", () => {
    it("MOSIX N or role terminal make a terminal (MOSIX N set); others are workers of the cluster image", () => {
        const listed: PinnedNodeInput[] = [
            { hostname: "a", mac: "52:54:00:00:00:01" },
            { hostname: "b", mac: "52:54:00:00:00:02", ltspConf: { MOSIX: "N" } },
            { hostname: "c", mac: "52:54:00:00:00:03", role: "terminal" },
        ];
        const { nodes, problems } = pinNodes(listed, "render", "render-node");
        expect(problems).toEqual([]);
        expect(nodes.map((n) => [n.hostname, n.image, n.role, n.ltspConf.MOSIX ?? ""])).toEqual([
            ["a", "render", "render-node", ""],
            ["b", "render", "terminal", "N"],
            ["c", "render", "terminal", "N"],
        ]);
    });

    it("a worker role with MOSIX N is a contradiction, named", () => {
        const { problems } = pinNodes(
            [{ hostname: "a", mac: "52:54:00:00:00:01", role: "render-node", ltspConf: { MOSIX: "N" } }],
            "render",
            "render-node",
        );
        expect(problems).toEqual([{ index: 0, reason: expect.stringContaining('role "render-node" with ltspConf MOSIX "N"') }]);
    });

    it("a role or MOSIX value that would silently make a worker (Terminal, n) is named", () => {
        const { problems } = pinNodes(
            [
                { hostname: "a", mac: "52:54:00:00:00:01", role: "Terminal" },
                { hostname: "b", mac: "52:54:00:00:00:02", ltspConf: { MOSIX: "n" } },
                { hostname: "c", mac: "52:54:00:00:00:03", role: "render-node", ltspConf: { MOSIX: "Y" } },
            ],
            "render",
            "render-node",
        );
        expect(problems).toEqual([
            { index: 0, reason: 'role "Terminal" is neither "terminal" (boots the image without slurmd) nor "render-node" (joins the queue)' },
            { index: 1, reason: expect.stringMatching(/^ltspConf MOSIX "n" is neither "N" \(a terminal: slurmd masked\) nor "Y"/) },
        ]);
    });
});
