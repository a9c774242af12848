// biome-ignore-all lint/suspicious/noTemplateCurlyInString: iPXE scripts name their settings ${like_this}; these strings are iPXE, not templates
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
    COMPRESSION_OPTIONS,
    clonezillaImageParts,
    menuEntries,
    menuSpec,
    ocsDoor,
    ocsRestoreOptions,
    ocsSaveOptions,
    PATHS,
    planRepository,
    setupArgs,
    sshdDropIn,
    validateRepository,
} from "../../lib/clonezilla/repositorySpec";
import { sha256Hex } from "../../lib/core/sha256";
import type { Step } from "../../lib/engine/steps";
import type { HostObservation } from "../../lib/host/observe";
import { doorFiles } from "../../lib/keydoor/door";
import { menuEntrySchema } from "../../lib/ltsp/bootMenu";
import { clonezillaMenuSpec } from "../../stacks/clonezilla";
import { TEST_KEY, TEST_PIN } from "./helpers";

const connection = { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN };
const base = { connection, clientNetworks: ["10.213.1.0/24"], server: "10.213.1.1", clients: ["52:54:00:c2:00:0a"] };

function spec(extra: Record<string, unknown> = {}) {
    const r = validateRepository({ ...base, ...extra });
    if (!r.ok) throw new Error(JSON.stringify(r.failures));
    return r.spec;
}

function reasons(extra: Record<string, unknown>): string[] {
    const r = validateRepository({ ...base, ...extra });
    return r.ok ? [] : r.failures.map((f) => f.reason);
}

describe("Clonezilla repository: inputs", () => {
    it("defaults: /srv/partimag, account partimag, zstd, sda, adapt, poweroff, image clonezilla", () => {
        const s = spec();
        expect([s.repository, s.account, s.compression, s.disk, s.restoreMode, s.poweroff, s.bootImage, s.port]).toEqual([
            "/srv/partimag",
            "partimag",
            "zstd",
            "sda",
            "adapt",
            true,
            "clonezilla",
            22,
        ]);
    });

    it("rejects what could reach a shell or a path: a disk that is not a name, an image with a slash, a relative repository", () => {
        expect(reasons({ disk: "sda; reboot" })[0]).toMatch(/^disk: .* is not a disk name like sda/);
        expect(reasons({ entries: [{ action: "save", image: "../etc" }] })[0]).toMatch(/^entries\.0\.image: .* is not a Clonezilla image name/);
        expect(reasons({ entries: [{ action: "save", image: ".hidden" }] })[0]).toMatch(/is not a Clonezilla image name/);
        expect(reasons({ repository: "srv/partimag" })[0]).toMatch(/^repository: .* is not an absolute path/);
        expect(reasons({ repository: "/" })[0]).toMatch(/^repository: "\/" is a system location \(\/ itself\)/);
    });

    it("wants client networks as network addresses, and no duplicate job", () => {
        expect(reasons({ clientNetworks: [] })[0]).toMatch(/needs at least one network/);
        expect(reasons({ clientNetworks: ["10.213.1.7/24"] })[0]).toMatch(/is not a network address \(did you mean 10\.213\.1\.0\/24\?\)/);
        expect(
            reasons({
                entries: [
                    { action: "save", image: "a" },
                    { action: "save", image: "a", disk: "sda" },
                ],
            })[0],
        ).toMatch(/^entries\.1: .* is the same job as an earlier entry/);
        expect(reasons({ compression: "lz4" })[0]).toMatch(/^compression: /);
    });
});

describe("Clonezilla repository: ocs-sr options", () => {
    // Expected flags as ocs-sr 5.3 defines them (/usr/sbin/ocs-sr, parse_ocs_sr_cmd_options_with_dash):
    // -b batch, --nogui text output, -q2 partclone, -j2 hidden data after the MBR, -z9p zstdmt,
    // -i 0 no split, -sfsck no fsck of the source, -senc no encryption, -p true no post action.
    it("save: batch, partclone, the chosen compression, no split, no fsck, no encryption, no post action", () => {
        expect(ocsSaveOptions({ compression: "zstd" })).toEqual(["-b", "--nogui", "-q2", "-j2", "-z9p", "-i", "0", "-sfsck", "-senc", "-p", "true"]);
        expect(ocsSaveOptions({ compression: "gzip" })).toContain("-z1p");
        expect(COMPRESSION_OPTIONS).toEqual({ zstd: "-z9p", gzip: "-z1p", xz: "-z5p", none: "-z0" });
    });

    it("restore: adapt = -e1 auto -e2 -r; verbatim = no resize and no post-processing (-irhr -ius -iui)", () => {
        expect(ocsRestoreOptions({ restoreMode: "adapt" })).toEqual(["-b", "--nogui", "-j2", "-e1", "auto", "-e2", "-r", "-p", "true"]);
        expect(ocsRestoreOptions({ restoreMode: "verbatim" })).toEqual(["-b", "--nogui", "-j2", "-irhr", "-ius", "-iui", "-p", "true"]);
    });
});

describe("Clonezilla repository: boot menu entries", () => {
    it("one entry per job, valid for the LtspServer menu, booting the Clonezilla image with the job on the command line", () => {
        const entries = menuEntries(
            spec({
                disk: "vda",
                entries: [
                    { action: "save", image: "lab-PC.2024" },
                    { action: "restore", image: "lab-PC.2024", disk: "sdb" },
                ],
            }),
        );
        expect(entries.map((e) => e.id)).toEqual(["ocs-save-lab-pc-2024-vda", "ocs-restore-lab-pc-2024-sdb"]);
        expect(entries.map((e) => e.title)).toEqual(["Clonezilla: save disk vda as lab-PC.2024", "Clonezilla: restore lab-PC.2024 to disk sdb"]);
        expect(entries[0].script).toEqual([
            "set img clonezilla",
            "set cmdline_client ${cmdline_client} netboot.ocs=save netboot.ocs_image=lab-PC.2024 netboot.ocs_disk=vda",
            "goto images",
        ]);
        for (const entry of entries) expect(menuEntrySchema.safeParse(entry).success).toBe(true);
    });

    it("from stack config alone (at preview), with the resource's defaults and field checks", () => {
        expect(menuSpec({ entries: [{ action: "save", image: "a" }] })).toEqual({
            ok: true,
            spec: { entries: [{ action: "save", image: "a" }], disk: "sda", bootImage: "clonezilla" },
        });
        // In the stack: one line naming the config key (was a ZodError, its issues as JSON over many lines).
        expect(() => clonezillaMenuSpec({ entries: [{ action: "save", image: "a/b" }] })).toThrow(
            /^stack config: netboot:clonezilla\.entries\.0\.image: "a\/b" is not a Clonezilla image name \([^\n]*\)$/,
        );
    });

    it("long names stay within the menu's limits and ids stay distinct", () => {
        const long = "a".repeat(60);
        const entries = menuEntries(
            spec({
                entries: [
                    { action: "save", image: long },
                    { action: "save", image: long, disk: "sdb" },
                ],
            }),
        );
        expect(new Set(entries.map((e) => e.id)).size).toBe(2);
        for (const entry of entries) expect(menuEntrySchema.safeParse(entry).success).toBe(true);
    });
});

describe("Clonezilla repository: what the server and the image get", () => {
    it("sshd: the account only, key only, SFTP only, chrooted in the repository", () => {
        const text = sshdDropIn(spec());
        expect(text).toContain("Match User partimag\n");
        for (const line of [
            "AuthorizedKeysFile /etc/netboot/ocs/authorized_keys",
            "AuthenticationMethods publickey",
            "PasswordAuthentication no",
            "ChrootDirectory /srv/partimag",
            "ForceCommand internal-sftp -u 0077",
            "AllowTcpForwarding no",
            "PermitTTY no",
        ]) {
            expect(text).toContain(`    ${line}\n`);
        }
    });

    it("the setup script's arguments: repository, images dir, account, key dir, host key alias, networks", () => {
        expect(setupArgs(spec({ clientNetworks: ["10.213.1.0/24", "10.9.0.0/16"] }))).toEqual([
            "/srv/partimag",
            "images",
            "partimag",
            "/etc/netboot/ocs",
            "netboot-ocs-repository",
            "10.213.1.0/24,10.9.0.0/16",
        ]);
    });

    it("the image: packages, its files, no repository key (the job fetches it from the door), the host keys pinned, the unit enabled", () => {
        const parts = clonezillaImageParts(spec({ compression: "gzip", restoreMode: "verbatim", disk: "vda" }), "SHA256:abc");
        expect(parts.packages).toEqual(expect.arrayContaining(["clonezilla", "partclone", "sshfs", "openssh-client", "ntfs-3g", "parted", "procps"]));
        // Copied on the server: the repository's host key and the door's asking key and host key; never the repository key.
        expect(parts.serverFiles).toEqual({
            [PATHS.imageKnownHosts]: PATHS.serverKnownHosts,
            "/etc/netboot/doors/ocs/request": "/var/lib/netboot/doors/ocs/request",
            "/etc/netboot/doors/ocs/known_hosts": "/var/lib/netboot/doors/ocs/known_hosts",
        });
        expect(Object.values(parts.serverFiles)).not.toContain(PATHS.serverPrivateKey);
        expect(parts.extraFiles["/etc/systemd/system/netboot-ocs.service.d/netboot-door.conf"]).toMatch(
            /^ExecStartPre=\+\/bin\/sh \/usr\/local\/sbin\/netboot-fetch-secret ocs 10\.213\.1\.1 \/etc\/netboot\/ocs\/id_ed25519 root:root 0600$/m,
        );
        // No key material passes through the program: only its fingerprint, which rebuilds the image when the key pair is new.
        expect(JSON.stringify(parts)).not.toMatch(/PRIVATE KEY/);
        expect(parts.extraFiles[PATHS.imageKeyFingerprint]).toBe("SHA256:abc\n");
        const conf = parts.extraFiles[PATHS.imageConf];
        expect(conf).toContain("OCS_SERVER='10.213.1.1'\n");
        expect(conf).toContain("OCS_DISK='vda'\n");
        expect(conf).toContain("OCS_REMOTE_DIR='/images'\n");
        expect(conf).toContain("OCS_SAVE_OPTIONS='-b --nogui -q2 -j2 -z1p -i 0 -sfsck -senc -p true'\n");
        expect(conf).toContain("OCS_RESTORE_OPTIONS='-b --nogui -j2 -irhr -ius -iui -p true'\n");
        expect(parts.extraFiles[PATHS.imageUnit]).toContain("ExecStart=/bin/sh /usr/local/sbin/netboot-ocs\n");
        expect(parts.extraFiles[PATHS.imageUnit]).toContain("ConditionKernelCommandLine=netboot.ocs\n");
        expect(parts.extraFiles[PATHS.imageScript]).toMatch(/^#!\/bin\/sh\n/);
        expect(parts.postInstall).toEqual(["systemctl enable netboot-ocs.service"]);
    });

    it("the key door admits the listed PCs only, unless told any; an empty list is an error", () => {
        const door = ocsDoor(spec({ clients: ["52-54-00-C2-00-0B", "52:54:00:c2:00:0a"], clientNetworks: ["10.213.1.0/24", "10.9.0.0/16"] }));
        expect(door.allow.split("\n").slice(1)).toEqual(["allow 52:54:00:c2:00:0a", "allow 52:54:00:c2:00:0b", ""]);
        expect(door.from).toBe("10.213.1.0/24,10.9.0.0/16");
        expect(ocsDoor(spec({ clients: ["any"] })).allow).toMatch(/\nallow any\n$/);
        expect(reasons({ clients: [] })[0]).toMatch(/^clients: \[\] needs the MACs of the PCs that save or restore images, or \["any"\]/);
        expect(reasons({ clients: ["pc01"] })[0]).toMatch(/^clients\.0: "pc01" is neither a MAC address/);
    });
});

describe("Clonezilla repository: the plan (every change through the engine)", () => {
    const named = (x: Step) => (x.kind === "write" ? `write ${x.file.path}` : x.kind === "run" ? `run ${x.script}` : x.kind);
    const fresh: HostObservation = { files: {}, services: {}, packages: { "openssh-server": null } };

    it("a fresh server: openssh-server, the account and key pair, the door, the sshd drop-in after sshd's check, a reload", () => {
        const steps = planRepository(spec(), "http://10.213.0.1:3142", fresh);
        expect(steps.map(named)).toEqual([
            "install",
            "run clonezilla-setup",
            "run key-door-setup",
            "write /var/lib/netboot/doors/ocs/serve",
            "write /var/lib/netboot/doors/ocs/allow",
            `write ${PATHS.sshdDropIn}`,
            "run reload-service",
        ]);
        expect(steps[2]).toMatchObject({ args: ["ocs", "/var/lib/netboot/doors/ocs", "netboot-door-ocs", "10.213.1.0/24", PATHS.serverPrivateKey] });
        expect(steps[5]).toMatchObject({ check: 'sshd -t -f "$1"', reload: ["ssh"] });
    });

    it("as the server has it: the idempotent setups only (the key pair and the door's copy of it are made there), no write, no reload", () => {
        const dropIn = sshdDropIn(spec());
        const door = ocsDoor(spec());
        const seen: HostObservation = {
            files: {
                [PATHS.sshdDropIn]: sha256Hex(dropIn),
                ...Object.fromEntries(doorFiles("ocs", door.allow).map((f) => [f.path, f.sha256])),
            },
            services: {},
            packages: { "openssh-server": "1:9.2p1-2" },
        };
        expect(planRepository(spec(), undefined, seen).map(named)).toEqual(["run clonezilla-setup", "run key-door-setup"]);
        const moreClients = planRepository(spec({ clients: ["any"] }), undefined, seen);
        expect(moreClients.map(named)).toEqual(["run clonezilla-setup", "run key-door-setup", "write /var/lib/netboot/doors/ocs/allow"]);
    });
});

describe("netboot-ocs (the image's one-shot script): what it refuses before touching anything", () => {
    // Run with sh and a stub configuration; every case here fails before sshfs or ocs-sr would run.
    const dir = mkdtempSync(join(tmpdir(), "netboot-ocs-"));
    const conf = join(dir, "ocs.conf");
    writeFileSync(conf, clonezillaImageParts(spec(), "SHA256:x").extraFiles[PATHS.imageConf]);

    function runWith(cmdline: string): { code: number | null; out: string } {
        const file = join(dir, "cmdline");
        writeFileSync(file, `${cmdline}\n`);
        const r = spawnSync("sh", [join(__dirname, "..", "..", "templates", "clonezilla-ocs-run.sh")], {
            env: { PATH: process.env.PATH, NETBOOT_OCS_CONF: conf, NETBOOT_OCS_CMDLINE: file, NETBOOT_OCS_DISK_WAIT: "1" },
            encoding: "utf8",
        });
        return { code: r.status, out: r.stdout + r.stderr };
    }

    it("an unknown action, an image name that is a path, a disk name that is a command", () => {
        expect(runWith("quiet netboot.ocs=wipe netboot.ocs_image=a")).toEqual({
            code: 1,
            out: 'netboot-ocs: FAILED: netboot.ocs="wipe" is neither save nor restore\n',
        });
        expect(runWith("netboot.ocs=save netboot.ocs_image=../../etc")).toEqual({
            code: 1,
            out: 'netboot-ocs: FAILED: netboot.ocs_image="../../etc" is not an image name\n',
        });
        expect(runWith("netboot.ocs=restore netboot.ocs_image=a netboot.ocs_disk=$(reboot)")).toEqual({
            code: 1,
            out: 'netboot-ocs: FAILED: netboot.ocs_disk="$(reboot)" is not a disk name like sda\n',
        });
    });

    it("a disk this machine does not have (after waiting for it)", () => {
        const r = runWith("netboot.ocs=save netboot.ocs_image=a netboot.ocs_disk=zzz9");
        expect(r).toEqual({ code: 1, out: "netboot-ocs: FAILED: /dev/zzz9 is not a block device on this client\n" });
    });
});
