import { z } from "zod";
import { connectionSchema } from "../core/connection";
import { cidr, dnsLabel, formatIssues, hostAddressProblem, ipv4, ownedDirectory, parseSubnet, SECRET_VALUE, type Validated } from "../core/fields";
import { macAddress, NORMAL_MAC } from "../core/node";
import { sha256Hex } from "../core/sha256";
import type { DesiredFile } from "../engine/steps";
import { ANY_MACHINE, allowList, closeDoorArgs, doorClient, doorImageParts, doorObservedFiles, planDoor } from "../keydoor/door";
import { renderTemplate } from "../render/templates";

/**
 * A Slurm cluster whose controller runs on the LTSP server and whose nodes are diskless PXE
 * clients: the controller's files (slurm.conf in configless mode with dynamic nodes, the munge
 * key, the rsync module that is the shared output directory) and the files the node image is
 * built with. Pure: no host is touched here.
 */

const slurmName = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "is not a Slurm name (lower-case letters, digits, _; up to 40)");

/** munged needs at least 32 bytes of key (munge(7): "a minimum of 32 bytes"); a random key of that size is what matters. */
export const MIN_MUNGE_KEY_BYTES = 32;

/** What is wrong with a munge key, never quoting it. */
export function mungeKeyProblem(key: string): string | undefined {
    if (Buffer.byteLength(key, "utf8") >= MIN_MUNGE_KEY_BYTES) return undefined;
    return `is shorter than ${MIN_MUNGE_KEY_BYTES} bytes (munged refuses it); make a random one: openssl rand -base64 48`;
}

export const clusterFields = z
    .object({
        connection: connectionSchema,
        /** ClusterName in slurm.conf. */
        clusterName: slurmName.default("render"),
        /** The server's address on the node LAN: SlurmctldHost's address and the nodes' --conf-server. */
        controllerAddress: ipv4,
        /** The node LAN (rsync `hosts allow`). */
        clientNetwork: cidr,
        /** The partition every dynamic node joins (through a Nodeset on `feature`). */
        partition: slurmName.default("render"),
        /** The node feature that puts a node into the partition (slurmd --conf Feature=...). */
        feature: slurmName.default("render"),
        /** MaxNodeCount: how many dynamic nodes may be registered at once. */
        maxNodes: z.number().int("is not a whole number").min(1, "must be at least 1").max(65000, "is more than Slurm's node limit").default(1024),
        /** Seconds a node may be silent before slurmctld marks it DOWN (a powered-off diskless node). */
        slurmdTimeout: z.number().int().min(10).max(86400).default(120),
        /** The shared output directory on the server (frames land in frames/ below it, scenes are read from scenes/). */
        outputDir: ownedDirectory.default("/srv/render"),
        /** Its rsync daemon module name (rsync://controllerAddress/MODULE/). */
        outputModule: dnsLabel.default("render"),
        /**
         * The munge key shared by the controller and every node: a Pulumi secret of at least 32
         * characters (e.g. `openssl rand -base64 48 | pulumi config set --secret mungeKey`).
         */
        mungeKey: z.string().superRefine((key, ctx) => {
            const problem = mungeKeyProblem(key);
            if (problem) ctx.addIssue({ code: "custom", message: problem, input: SECRET_VALUE });
        }),
        /**
         * Who gets the munge key from the server's key door when it boots the node image (the image
         * carries none): MACs, or "any" (every machine on clientNetwork: plugging a machine in is
         * adding a node). The key is what lets a machine run jobs as anyone, root included.
         */
        mungeKeyFor: z.array(doorClient).min(1, 'needs the nodes\' MACs, or ["any"]').default([ANY_MACHINE]),
        /** Never these machines, even under "any" (the site's terminals: they boot the image and run no slurmd). */
        mungeKeyNotFor: z.array(macAddress).default([]),
    })
    .strict();

export type ClusterSpec = z.infer<typeof clusterFields>;
/** The cluster without its host and key: what the node image needs to know. */
export type ClusterLayout = Omit<ClusterSpec, "connection" | "mungeKey">;

export const clusterSchema = clusterFields.superRefine((spec, ctx) => {
    const subnet = parseSubnet(spec.clientNetwork);
    if (subnet && parseSubnet(`${spec.controllerAddress}/${subnet.prefix}`)?.network !== subnet.network) {
        ctx.addIssue({
            code: "custom",
            path: ["controllerAddress"],
            input: spec.controllerAddress,
            message: `is not in clientNetwork ${spec.clientNetwork}: the nodes could not reach the controller there`,
        });
    } else if (subnet) {
        const problem = hostAddressProblem(spec.controllerAddress, subnet);
        if (problem) ctx.addIssue({ code: "custom", path: ["controllerAddress"], input: spec.controllerAddress, message: problem });
    }
});

/** Paths of the key in messages and failures: never its value. */
export function validateCluster(inputs: unknown): Validated<ClusterSpec> {
    const result = clusterSchema.safeParse(inputs, { reportInput: true });
    if (result.success) return { ok: true, spec: result.data };
    return { ok: false, failures: formatIssues(result.error.issues, ["connection.privateKey", "mungeKey"]) };
}

export const PATHS = {
    slurmConf: "/etc/slurm/slurm.conf",
    mungeKey: "/etc/munge/munge.key",
    rsyncdConf: "/etc/rsyncd.conf",
} as const;

/** The server's packages: the controller, the client commands (sbatch, srun, sinfo), munge, the rsync daemon. */
export const CONTROLLER_PACKAGES = ["munge", "rsync", "slurm-client", "slurmctld"];
/**
 * The node image's packages: the node daemon, munge, the renderer, rsync to push frames, ssh to
 * fetch the munge key from the key door, and
 * dbus: slurmd 22.05's cgroup/v2 plugin asks systemd over D-Bus for its scope, and without dbus
 * slurmd exits 1 ten seconds after it starts (seen on the lab's nodes: a minbase image has no dbus).
 */
export const NODE_PACKAGES = ["dbus", "munge", "openssh-client", "povray", "rsync", "slurmd"];

/** Which services read which file (restarted when it changes). */
export const SERVICES_OF: Record<string, string[]> = {
    [PATHS.mungeKey]: ["munge", "slurmctld"],
    [PATHS.slurmConf]: ["slurmctld"],
    [PATHS.rsyncdConf]: ["rsync"],
};
export const CONTROLLER_SERVICES = ["munge", "slurmctld", "rsync"];

function file(path: string, content: string, mode = "0644"): DesiredFile {
    return { path, content, mode, sha256: sha256Hex(content) };
}

/** What the templates see: never the key. */
function templateContext(spec: ClusterLayout, controllerHostname: string) {
    const { mungeKey: _key, connection: _connection, ...rest } = spec as ClusterSpec;
    return { ...rest, controllerHostname, module: spec.outputModule, maxConnections: Math.min(spec.maxNodes, 200) };
}

/** slurm.conf; `controllerHostname` is the server's short host name (slurmctld checks SlurmctldHost against it). */
export function slurmConf(spec: ClusterSpec, controllerHostname: string): string {
    return renderTemplate("etc/slurm/slurm.conf", templateContext(spec, controllerHostname));
}

export function rsyncdConf(spec: ClusterSpec): string {
    return renderTemplate("etc/rsyncd.conf", templateContext(spec, ""));
}

/** The controller's files as the server should have them. The key file is munge's own, mode 0400. */
export function controllerFiles(spec: ClusterSpec, controllerHostname: string): { file: DesiredFile; owner?: string }[] {
    return [
        { file: file(PATHS.mungeKey, spec.mungeKey, "0400"), owner: "munge:munge" },
        { file: file(PATHS.slurmConf, slurmConf(spec, controllerHostname)) },
        { file: file(PATHS.rsyncdConf, rsyncdConf(spec)) },
    ];
}

/** sha256 of the key: changes with the key, says nothing about it (a random key of 32+ bytes). */
export function mungeKeyFingerprint(key: string): string {
    return sha256Hex(key);
}

/**
 * What the node image is built with (a ChrootImage debootstrap source's packages, extraFiles,
 * serverFiles, postInstall): slurmd started with -Z and --conf-server (no slurm.conf in the
 * image, no per-node config anywhere), the LTSP init hook that masks slurmd and munged on a node
 * whose ltsp.conf says MOSIX=N, the render helper, and no munge key: munged fetches it from the
 * server's key door when it starts (lib/keydoor), the door's asking key and the server's host key
 * copied into the image on the server. The key munge's package made at install goes: it belongs
 * to no cluster, and an image is readable by anyone on the LAN.
 */
export function nodeImageParts(spec: ClusterLayout) {
    const context = templateContext(spec, "");
    const door = doorImageParts(MUNGE_DOOR, {
        server: spec.controllerAddress,
        service: "munge",
        dest: PATHS.mungeKey,
        owner: "munge:munge",
        mode: "0400",
    });
    const extraFiles: Record<string, string> = {
        "/etc/default/slurmd": renderTemplate("etc/default/slurmd", context),
        "/etc/systemd/system/slurmd.service.d/netboot.conf": renderTemplate("etc/systemd/system/slurmd.service.d/netboot.conf", context),
        "/usr/share/ltsp/client/init/57-slurmnode.sh": renderTemplate("usr/share/ltsp/client/init/57-slurmnode.sh", context),
        "/usr/local/bin/netboot-render": renderTemplate("usr/local/bin/netboot-render", context),
        ...door.extraFiles,
    };
    return {
        packages: NODE_PACKAGES,
        extraFiles,
        serverFiles: door.serverFiles,
        postInstall: [`rm -f ${PATHS.mungeKey}`, "chmod 0755 /usr/local/bin/netboot-render", "systemctl enable munge.service slurmd.service"],
    };
}

/** The munge key's door on the controller (lib/keydoor). */
export const MUNGE_DOOR = "munge";

/** The door's allow list: the machines that may have the key, never the site's terminals. */
export function mungeAllowList(spec: Pick<ClusterSpec, "mungeKeyFor" | "mungeKeyNotFor">): string {
    return allowList(MUNGE_DOOR, spec.mungeKeyFor, spec.mungeKeyNotFor);
}

/** The door as engine steps (after the key file is written: the door copies it). */
export function planMungeDoor(spec: ClusterSpec, seen: Record<string, string | null>) {
    return planDoor(
        MUNGE_DOOR,
        { from: spec.clientNetwork, secretSource: PATHS.mungeKey, secretSha256: sha256Hex(spec.mungeKey), allow: mungeAllowList(spec) },
        seen,
    );
}

export const MUNGE_DOOR_FILES = doorObservedFiles(MUNGE_DOOR);
export const MUNGE_DOOR_CLOSE = closeDoorArgs(MUNGE_DOOR);

export type NodeImageParts = ReturnType<typeof nodeImageParts>;

/** A node the controller knows (scontrol show nodes), with its MAC from the DHCP leases when it has one. */
export interface JoinedNode {
    name: string;
    address: string;
    state: string;
    features: string;
    cpus: number;
    mac: string | null;
}

export interface Lease {
    mac: string;
    address: string;
    hostname: string;
}

/** `scontrol show nodes --oneliner`: one line of Key=Value pairs per node ("No nodes in the system" when none). */
export function parseScontrolNodes(text: string): Omit<JoinedNode, "mac">[] {
    const nodes: Omit<JoinedNode, "mac">[] = [];
    for (const line of text.split("\n")) {
        if (!line.startsWith("NodeName=")) continue;
        const fields = new Map<string, string>();
        for (const m of line.matchAll(/(\w+)=(\S*)/g)) if (!fields.has(m[1])) fields.set(m[1], m[2]);
        nodes.push({
            name: fields.get("NodeName") ?? "",
            address: fields.get("NodeAddr") ?? "",
            state: fields.get("State") ?? "",
            features: fields.get("AvailableFeatures") ?? "",
            cpus: Number(fields.get("CPUTot") ?? 0),
        });
    }
    return nodes.sort((a, b) => a.name.localeCompare(b.name));
}

/** dnsmasq's lease file: `EXPIRY MAC IP HOSTNAME CLIENTID` per line (hostname `*` when the client sent none). */
export function parseDnsmasqLeases(text: string): Lease[] {
    return text
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 4 && NORMAL_MAC.test(f[1].toLowerCase()))
        .map((f) => ({ mac: f[1].toLowerCase(), address: f[2], hostname: f[3] === "*" ? "" : f[3] }))
        .sort((a, b) => a.address.localeCompare(b.address, undefined, { numeric: true }));
}

/** The nodes that joined, each with the MAC that leased its address (null: no lease here, e.g. another DHCP server). */
export function joinedNodes(scontrol: string, leases: string): JoinedNode[] {
    const byAddress = new Map(parseDnsmasqLeases(leases).map((l) => [l.address, l.mac]));
    return parseScontrolNodes(scontrol).map((n) => ({ ...n, mac: byAddress.get(n.address) ?? null }));
}
