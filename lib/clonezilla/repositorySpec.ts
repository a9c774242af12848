import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { connectionSchema } from "../core/connection";
import { cidr, formatIssues, hostAddressProblem, ipv4, loginAccount, ownedDirectory, parseSubnet, port, type Validated } from "../core/fields";
import { imageName } from "../core/node";
import { sha256Hex } from "../core/sha256";
import { SSH_SERVICE, SSHD_CHECK } from "../core/sshd";
import type { Step } from "../engine/steps";
import type { HostObservation } from "../host/observe";
import { allowList, doorClient, doorImageParts, doorObservedFiles, planDoor } from "../keydoor/door";
import type { MenuEntry } from "../ltsp/bootMenu";
import { renderTemplate, TEMPLATE_DIR } from "../render/templates";

/**
 * The Clonezilla image repository on a boot server and the client side that uses it: which
 * account, where, which compression, which disk; the menu entries that save or restore a disk;
 * the files the Clonezilla boot image is built with. Pure: no host is touched here.
 */

/** A disk as the client's kernel names it: sda, vda, nvme0n1, mmcblk0. */
export const diskName = z.string().regex(/^[a-z][a-z0-9]{1,15}$/, "is not a disk name like sda, vda or nvme0n1");

/** A Clonezilla image: a directory name in the repository (ocs-sr refuses none of these). */
export const ocsImageName = z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "is not a Clonezilla image name (letters, digits, . _ -, up to 64, no leading dot)");

/**
 * ocs-sr's compression options (ocs-sr 5.3, parse_ocs_sr_cmd_options_with_dash): -z9p runs
 * zstdmt, -z1p pigz, -z5p `xz -T 0`, -z0 cat. The programs: zstd (every image we build has it),
 * pigz (a dependency of clonezilla), xz-utils (in every Debian base system).
 */
export const COMPRESSION_OPTIONS = { zstd: "-z9p", gzip: "-z1p", xz: "-z5p", none: "-z0" } as const;
export type Compression = keyof typeof COMPRESSION_OPTIONS;

/**
 * How a restore treats the restored system:
 * - "adapt" (Clonezilla's usual unattended restore): -e1 auto -e2 (NTFS boot sector geometry
 *   for Windows), -r (fsck and grow the file systems to the partitions), and ocs-sr's default
 *   post-processing, which mounts the restored file systems to drop udev hardware records and
 *   refresh syslinux/initrd. The restored partitions then differ from the saved ones in file
 *   system metadata (a fsck stamps the superblock's last-check time, a mount its mount count).
 * - "verbatim": the partitions come back byte for byte as saved (checked here: sha256 of the
 *   restored partition equals the source's): no fsck, no resize, no post-processing
 *   (-irhr -ius -iui).
 */
export const RESTORE_MODES = ["adapt", "verbatim"] as const;

const entrySchema = z
    .object({
        action: z.enum(["save", "restore"]),
        /** The image saved to or restored from. */
        image: ocsImageName,
        /** The client's disk; the repository's `disk` when absent. */
        disk: diskName.optional(),
    })
    .strict();

export const repositoryFields = z
    .object({
        connection: connectionSchema,
        /** The sftp chroot of the repository account (root-owned); the images are in `images/` below it. */
        repository: ownedDirectory.default("/srv/partimag"),
        /** The account the clients log in as; it has no password, no shell, only SFTP in `repository`. */
        account: loginAccount.default("partimag"),
        /** The networks the clients boot on (`from=` of the key): the key opens nothing from elsewhere. */
        clientNetworks: z.array(cidr).min(1, "needs at least one network, like 10.213.1.0/24"),
        /** The server's address on the client LAN (what the clients connect to). */
        server: ipv4,
        /** The SSH port the clients mount the repository from. */
        port: port.default(22),
        /** Image compression: zstd (ocs-sr -z9p), gzip (-z1p), xz (-z5p), none (-z0). */
        compression: z.enum(Object.keys(COMPRESSION_OPTIONS) as [Compression, ...Compression[]]).default("zstd"),
        /** The disk an entry saves or restores when it names none. */
        disk: diskName.default("sda"),
        /**
         * adapt: Clonezilla's usual unattended restore (-e1 auto -e2 -r: NTFS boot geometry, fsck and grow
         * file systems to the partitions, drop udev hardware records, refresh syslinux/initrd); verbatim:
         * partitions come back byte for byte (-irhr -ius -iui, no -r).
         */
        restoreMode: z.enum(RESTORE_MODES).default("adapt"),
        /** Power the client off after a job that succeeded (a failed one stays up for its console). */
        poweroff: z.boolean().default(true),
        /** The ChrootImage that holds Clonezilla; its name in the boot menu entries. */
        bootImage: imageName.default("clonezilla"),
        /** The boot menu's Clonezilla entries: one menu entry each. */
        entries: z.array(entrySchema).default([]),
        /**
         * The PCs that may save to and restore from the repository (their MACs), or ["any"]: every
         * machine on the client networks. Each gets the repository's key from the server's key
         * door when it runs a job; the Clonezilla image (readable by anyone on the LAN) has none.
         */
        clients: z
            .array(doorClient)
            .min(1, 'needs the MACs of the PCs that save or restore images, or ["any"] (then every machine on the client networks gets the key)'),
    })
    .strict();

export const repositorySchema = repositoryFields.superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.entries.forEach((entry, i) => {
        const key = `${entry.action} ${entry.image} ${entry.disk ?? spec.disk}`;
        if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["entries", i], input: key, message: "is the same job as an earlier entry" });
        seen.add(key);
    });
    // The clients connect to `server`: it is a host address on one of their networks.
    const subnets = spec.clientNetworks.map(parseSubnet).filter((subnet) => subnet !== undefined);
    if (subnets.length && !subnets.some((subnet) => hostAddressProblem(spec.server, subnet) === undefined)) {
        ctx.addIssue({
            code: "custom",
            path: ["server"],
            input: spec.server,
            message: `is not a host address on the client networks (${spec.clientNetworks.join(", ")}): ${subnets.map((subnet) => hostAddressProblem(spec.server, subnet)).join("; ")}`,
        });
    }
    spec.clientNetworks.forEach((network, i) => {
        const subnet = parseSubnet(network);
        if (subnet && subnet.address !== subnet.network) {
            ctx.addIssue({
                code: "custom",
                path: ["clientNetworks", i],
                input: network,
                message: `is not a network address (did you mean ${subnet.network}/${subnet.prefix}?)`,
            });
        }
    });
});

export type RepositorySpec = z.infer<typeof repositorySchema>;

/**
 * The fields the boot menu entries depend on, from config alone (known at preview, before the
 * resource exists), with the same defaults and checks of each field as the resource.
 */
export function menuSpec(fields: {
    entries?: unknown;
    disk?: unknown;
    bootImage?: unknown;
}): Validated<Pick<RepositorySpec, "entries" | "disk" | "bootImage">> {
    const result = repositoryFields.pick({ entries: true, disk: true, bootImage: true }).safeParse(fields, { reportInput: true });
    return result.success ? { ok: true, spec: result.data } : { ok: false, failures: formatIssues(result.error.issues) };
}
export type OcsEntry = z.infer<typeof entrySchema>;

export function validateRepository(inputs: unknown): Validated<RepositorySpec> {
    const result = repositorySchema.safeParse(inputs, { reportInput: true });
    if (result.success) return { ok: true, spec: result.data };
    return { ok: false, failures: formatIssues(result.error.issues, ["connection.privateKey"]) };
}

/** Fixed places: on the server, and inside the Clonezilla image. */
export const PATHS = {
    /** Server: the key pair, the authorized_keys sshd reads for the account, the client's known_hosts. */
    keyDir: "/etc/netboot/ocs",
    serverPrivateKey: "/etc/netboot/ocs/client/id_ed25519",
    serverKnownHosts: "/etc/netboot/ocs/client/known_hosts",
    authorizedKeys: "/etc/netboot/ocs/authorized_keys",
    sshdDropIn: "/etc/ssh/sshd_config.d/netboot-ocs.conf",
    /** Below `repository`: what the account may write. */
    imagesDir: "images",
    /** Image: where the files go. */
    imageKey: "/etc/netboot/ocs/id_ed25519",
    imageKnownHosts: "/etc/netboot/ocs/known_hosts",
    imageConf: "/etc/netboot/ocs/ocs.conf",
    imageKeyFingerprint: "/etc/netboot/ocs/key.fingerprint",
    imageScript: "/usr/local/sbin/netboot-ocs",
    imageUnit: "/etc/systemd/system/netboot-ocs.service",
} as const;

/** The name the clients' known_hosts gives the server's key: the address they use does not matter. */
export const HOST_KEY_ALIAS = "netboot-ocs-repository";

/**
 * Debian packages of the Clonezilla image (bookworm). clonezilla pulls drbl, partclone is only
 * recommended; the rest were found missing when ocs-sr ran savedisk/restoredisk in a minbase
 * chroot with only clonezilla + partclone: `ps` (procps), `parted` (partition table save and
 * restore), `pvs`/`lvscan` (lvm2), `strings` (binutils, the -e2 geometry check), zstdmt (zstd,
 * which ChrootImage adds to every image anyway).
 */
export const CLONEZILLA_PACKAGES = ["clonezilla", "partclone", "sshfs", "openssh-client", "ntfs-3g", "parted", "procps", "lvm2", "binutils", "zstd"];

/** ocs-sr options for `savedisk` (ocs-sr 5.3 option names). */
export function ocsSaveOptions(spec: Pick<RepositorySpec, "compression">): string[] {
    return [
        "-b", // batch: no question asked
        "--nogui", // plain text progress on the console, no dialog screens
        "-q2", // partclone
        "-j2", // also the hidden data between the MBR and the first partition
        COMPRESSION_OPTIONS[spec.compression],
        "-i",
        "0", // one image file per partition, not split
        "-sfsck", // no fsck of the source: the client's disk is saved as it is
        "-senc", // not encrypted: the repository account and its key guard the images
        "-p",
        "true", // ocs-sr does nothing after the job; netboot-ocs unmounts, then powers off
    ];
}

/** ocs-sr options for `restoredisk`. */
export function ocsRestoreOptions(spec: Pick<RepositorySpec, "restoreMode">): string[] {
    const common = ["-b", "--nogui", "-j2"];
    const after = ["-p", "true"];
    if (spec.restoreMode === "verbatim") return [...common, "-irhr", "-ius", "-iui", ...after];
    return [...common, "-e1", "auto", "-e2", "-r", ...after];
}

/**
 * The boot menu entries (LtspServer `boot.menuEntries`, lib/ltsp/bootMenu.ts), one per job.
 * Each boots the Clonezilla image the way the menu boots any image (its root transport, its
 * kernel and initrds) with the job appended to the kernel command line; the client's own
 * parameters (cmdline_client, e.g. console=ttyS0) stay.
 */
export function menuEntries(spec: Pick<RepositorySpec, "entries" | "disk" | "bootImage">): MenuEntry[] {
    const ids = new Set<string>();
    return spec.entries.map((entry, i) => {
        const disk = entry.disk ?? spec.disk;
        let id = `ocs-${entry.action}-${entry.image.toLowerCase().replace(/[^a-z0-9_-]/g, "-")}-${disk}`.slice(0, 32);
        if (ids.has(id)) id = `${id.slice(0, 28)}-${i + 1}`;
        ids.add(id);
        const title =
            entry.action === "save" ? `Clonezilla: save disk ${disk} as ${entry.image}` : `Clonezilla: restore ${entry.image} to disk ${disk}`;
        return {
            id,
            title: title.length > 60 ? `${title.slice(0, 59)}~` : title,
            script: [
                `set img ${spec.bootImage}`,
                `set cmdline_client \${cmdline_client} netboot.ocs=${entry.action} netboot.ocs_image=${entry.image} netboot.ocs_disk=${disk}`,
                // The menu's own path for images: root transport method line, then kernel and initrds.
                "goto images",
            ],
        };
    });
}

/** What the Clonezilla ChrootImage is built from (its `source.debootstrap`, less the architecture). */
export interface ClonezillaImageParts {
    packages: string[];
    extraFiles: Record<string, string>;
    /** Files copied from the server into the chroot (path in image -> path on the server). */
    serverFiles: Record<string, string>;
    postInstall: string[];
}

/** The repository key's door on the server (lib/keydoor). */
export const OCS_DOOR = "ocs";

/** OpenSSH's from= of a key the clients use: a comma-separated pattern list, CIDR allowed. */
function keyFrom(spec: Pick<RepositorySpec, "clientNetworks">): string {
    return spec.clientNetworks.join(",");
}

/** The door's allow list (the PCs in `clients`) and the networks its asking key is good from. */
export function ocsDoor(spec: Pick<RepositorySpec, "clients" | "clientNetworks">) {
    return { allow: allowList(OCS_DOOR, spec.clients), from: keyFrom(spec) };
}

/**
 * The Clonezilla image's own files. The image carries no key to the repository: the job's unit
 * fetches it from the server's key door before it runs (a PC `clients` does not name is refused
 * and its job does not start). The door's asking key and the server's host key are copied into
 * the chroot on the server (`serverFiles`). The repository key's fingerprint is written into the
 * image so that a new key pair (a new door with it) makes a new build.
 */
export function clonezillaImageParts(spec: RepositorySpec, keyFingerprint: string): ClonezillaImageParts {
    const conf = renderTemplate("clonezilla-ocs.conf", {
        server: spec.server,
        port: String(spec.port),
        account: spec.account,
        remoteDir: `/${PATHS.imagesDir}`,
        disk: spec.disk,
        keyPath: PATHS.imageKey,
        knownHostsPath: PATHS.imageKnownHosts,
        hostKeyAlias: HOST_KEY_ALIAS,
        saveOptions: ocsSaveOptions(spec).join(" "),
        restoreOptions: ocsRestoreOptions(spec).join(" "),
        poweroff: spec.poweroff ? "yes" : "no",
    });
    const door = doorImageParts(OCS_DOOR, { server: spec.server, service: "netboot-ocs", dest: PATHS.imageKey, owner: "root:root", mode: "0600" });
    return {
        packages: CLONEZILLA_PACKAGES,
        extraFiles: {
            [PATHS.imageConf]: conf,
            [PATHS.imageKeyFingerprint]: `${keyFingerprint}\n`,
            [PATHS.imageScript]: clientScript(),
            [PATHS.imageUnit]: renderTemplate("clonezilla-ocs.service", { script: `/bin/sh ${PATHS.imageScript}` }),
            ...door.extraFiles,
        },
        serverFiles: {
            [PATHS.imageKnownHosts]: PATHS.serverKnownHosts,
            ...door.serverFiles,
        },
        postInstall: ["systemctl enable netboot-ocs.service"],
    };
}

/** The client's one-shot script, as it is (a shell file, not a template). */
export function clientScript(): string {
    return readFileSync(join(TEMPLATE_DIR, "clonezilla-ocs-run.sh"), "utf8");
}

/** The sshd drop-in that confines the repository account. */
export function sshdDropIn(spec: Pick<RepositorySpec, "account" | "repository">): string {
    return renderTemplate("clonezilla-sshd.conf", {
        account: spec.account,
        repository: spec.repository,
        imagesDir: PATHS.imagesDir,
        authorizedKeys: PATHS.authorizedKeys,
    });
}

/** Arguments of lib/remote/clonezilla-setup.sh. */
export function setupArgs(spec: RepositorySpec): string[] {
    return [spec.repository, PATHS.imagesDir, spec.account, PATHS.keyDir, HOST_KEY_ALIAS, keyFrom(spec)];
}

export interface RepositoryFacts {
    /** SHA256 fingerprint of the repository key's public half ("missing" when there is none). */
    keyFingerprint: string;
    /** The server's ed25519 host key the clients pin. */
    hostKeyFingerprint: string;
    /** Disk images in the repository (directories with a `disk` file). */
    images: string[];
    /** sha256 of the sshd drop-in on the server, or "missing". */
    sshdConfig: string;
}

/** lib/remote/clonezilla-facts.sh's KEY=VALUE lines. */
export function parseFacts(output: string): RepositoryFacts {
    const values = Object.fromEntries(
        output
            .split("\n")
            .map((line) => /^(\w+)=(.*)$/.exec(line))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => [m[1], m[2].trim()]),
    );
    return {
        keyFingerprint: values.keyFingerprint ?? "missing",
        hostKeyFingerprint: values.hostKeyFingerprint ?? "missing",
        images: (values.images ?? "").split(/\s+/).filter(Boolean),
        sshdConfig: values.sshdConfig ?? "missing",
    };
}

/** What a plan reads on the server first. */
export const OBSERVED = { packages: ["openssh-server"], files: () => [PATHS.sshdDropIn, ...doorObservedFiles(OCS_DOOR)] };

/**
 * The repository's apply as engine steps, from what the server has: openssh-server if missing,
 * the account, directories and key pair (clonezilla-setup.sh, idempotent), the key's door for the
 * clients, and the sshd drop-in that confines the account when it differs (sshd's own check
 * first; a reload keeps open sessions). Pure.
 */
export function planRepository(spec: RepositorySpec, aptProxy: string | undefined, seen: HostObservation): Step[] {
    const steps: Step[] = [];
    if (!seen.packages["openssh-server"]) steps.push({ kind: "install", packages: OBSERVED.packages, aptProxy, why: "missing: openssh-server" });
    steps.push({
        kind: "run",
        what: `Clonezilla repository ${spec.repository}: account, directories, key pair`,
        script: "clonezilla-setup",
        args: setupArgs(spec),
    });
    const door = ocsDoor(spec);
    steps.push(...planDoor(OCS_DOOR, { from: door.from, secretSource: PATHS.serverPrivateKey, allow: door.allow }, seen.files));
    const dropIn = sshdDropIn(spec);
    const file = { path: PATHS.sshdDropIn, content: dropIn, mode: "0644", sha256: sha256Hex(dropIn) };
    if (seen.files[file.path] !== file.sha256) {
        steps.push({ kind: "write", file, check: SSHD_CHECK, reload: [SSH_SERVICE] });
        steps.push({ kind: "run", what: `reload ${SSH_SERVICE} (open sessions stay)`, script: "reload-service", args: [SSH_SERVICE] });
    }
    return steps;
}
