// biome-ignore-all lint/suspicious/noTemplateCurlyInString: iPXE scripts name their settings ${like_this}; these strings are iPXE, not templates
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProofDisk, qemuImg, SECTOR, sha256OfRange } from "./diskImage";
import { labSsh, labStackConfig, labUp, listeners, outsiderReads, pxeBootUntil, TestStack } from "./harness";

/**
 * Proof for Clonezilla from Debian packages (issue 7): VM A, whose qcow2 disk has a partition
 * with an ext4 file system and known files, boots the menu's "save" entry and saves its disk to
 * the server's repository over sshfs (the repository account, its own key, the host key pinned);
 * VM B, with an empty disk of the same size, boots the "restore" entry; the restored partition's
 * sha256 equals the source's. Both jobs run unattended: the site's default menu entry is the job.
 *
 * restoreMode "verbatim": the partition comes back byte for byte. (In "adapt" mode ocs-sr's
 * fsck/resize and post-processing mount the file system and change superblock fields, so only
 * the files would match; see lib/clonezilla/repositorySpec.ts.)
 *
 * Lab instance: NETBOOT_LAB_ID from the environment (this test was run with 2).
 */
const MAC_A = "52:54:00:c2:00:0a";
const MAC_B = "52:54:00:c2:00:0b";
/** A machine on the LAN that is neither of the two PCs. */
const OUTSIDER_MAC = "52:54:00:c2:00:0e";
const DISK_MIB = 64;
const WORK = join(__dirname, "..", "..", ".test-work", "clonezilla");
const KNOWN = `netboot clonezilla proof ${randomBytes(8).toString("hex")}\n`;

const JOB_DONE = "netboot-ocs: (finished|FAILED)";

function jobLines(console: string): string[] {
    return console
        .split("\n")
        .filter((l) => /netboot-ocs:|Command line:|Connected \/dev\/nbd0/.test(l))
        .map((l) => l.trim());
}

describe("Clonezilla: save a client's disk to the server, restore it to another", () => {
    let stack: TestStack;
    let env: Record<string, string>;
    let source: ReturnType<typeof makeProofDisk>;
    const diskA = join(WORK, "a.qcow2");
    const diskB = join(WORK, "b.qcow2");

    beforeAll(async () => {
        rmSync(WORK, { recursive: true, force: true });
        mkdirSync(WORK, { recursive: true });
        source = makeProofDisk(join(WORK, "source"), DISK_MIB, { "known.txt": KNOWN, "random.bin": randomBytes(3_000_000) });
        qemuImg(["convert", "-f", "raw", "-O", "qcow2", source.raw, diskA]);
        qemuImg(["create", "-f", "qcow2", diskB, `${DISK_MIB}M`]);

        env = await labUp(true);
        stack = await TestStack.create(
            "clonezilla",
            labStackConfig(env, {
                ltspConf: { server: { menuTimeout: 2000, kernelParameters: "console=ttyS0" } },
                boot: { rootTransport: "nbd", http: true, defaultEntry: "ocs-save-proof-vda" },
                clonezilla: {
                    clientNetworks: [env.NETBOOT_LAB_SUBNET],
                    // The two PCs that may save and restore: they alone get the repository key.
                    clients: [MAC_A, MAC_B],
                    server: env.NETBOOT_LAB_SERVER_LAN_ADDR,
                    disk: "vda",
                    restoreMode: "verbatim",
                    entries: [
                        { action: "save", image: "proof" },
                        { action: "restore", image: "proof" },
                    ],
                },
            }),
        );
    });

    afterAll(() => {
        rmSync(WORK, { recursive: true, force: true });
    });

    // A first up builds the image (debootstrap, apt, squashfs): 15 min here on a loaded machine, beyond the lab default of 15.
    it(
        "sets up the repository account, builds the Clonezilla image and puts both jobs in the menu",
        async () => {
            await stack.up();
            const outputs = await stack.outputs();
            expect(outputs.clonezilla.keyFingerprint).toMatch(/^SHA256:/);
            expect(outputs.clonezilla.menuEntries).toEqual(["ocs-save-proof-vda", "ocs-restore-proof-vda"]);
            // sshd's effective settings for the account, from a client address on the LAN.
            const client = env.NETBOOT_LAB_DHCP_RANGE_START;
            const effective = await labSsh(`sshd -T -C user=partimag,host=client,addr=${client}`);
            expect(effective).toContain("chrootdirectory /srv/partimag");
            expect(effective).toContain("forcecommand internal-sftp -u 0077");
            expect(effective).toContain("authenticationmethods publickey");
            expect(effective).toContain("permittty no");
            expect(await labSsh("cat /etc/netboot/ocs/authorized_keys")).toMatch(
                new RegExp(`^restrict,from="${env.NETBOOT_LAB_SUBNET.replace(/\./g, "\\.")}" ssh-ed25519 `),
            );
            // nbd-server and lighttpd, which serve the Clonezilla image, listen on the LAN address only (issue 17).
            const lan = env.NETBOOT_LAB_SERVER_LAN_ADDR.replace(/\./g, "\\.");
            for (const port of [10809, 80]) {
                const lines = await listeners(port);
                console.log(`ss -ltnp 'sport = :${port}':\n  ${lines.join("\n  ")}`);
                expect(lines.length).toBeGreaterThan(0);
                for (const line of lines) expect(line).toMatch(new RegExp(`^${lan}:${port} `));
            }
            const menu = await labSsh("cat /srv/tftp/ltsp/ltsp.ipxe");
            expect(menu).toContain(
                ":ocs-save-proof-vda\nset img clonezilla\nset cmdline_client ${cmdline_client} netboot.ocs=save netboot.ocs_image=proof netboot.ocs_disk=vda\ngoto images",
            );
            expect(menu).toContain("netboot.ocs=restore netboot.ocs_image=proof netboot.ocs_disk=vda");
            // The repository key is on the server only, never in the Pulumi state, never in the image (issue 17):
            // the job fetches it from the key door, which admits the two PCs named in `clients`.
            // Lines 4-5 of an OpenSSH ed25519 key file hold its private half (line 2 is the same header in every such key).
            const keyBody = (await labSsh("sed -n 4p /etc/netboot/ocs/client/id_ed25519")).trim();
            expect(keyBody.length).toBeGreaterThan(40);
            expect(await labSsh("sed -n 4p /var/lib/netboot/doors/ocs/secret")).toBe(`${keyBody}\n`);
            expect(await stack.exportState()).not.toContain(keyBody);
            expect(await labSsh("unsquashfs -l /srv/ltsp/images/clonezilla.img | grep -c 'etc/netboot/ocs/id_ed25519' || true")).toBe("0\n");
            expect((await labSsh("cat /var/lib/netboot/doors/ocs/allow")).split("\n").slice(1)).toEqual([`allow ${MAC_A}`, `allow ${MAC_B}`, ""]);
            // A machine on the LAN that is none of them reads every export and finds no key; the door refuses it;
            // the image's asking key opens no SFTP session in the repository.
            const outsider = await outsiderReads(env, OUTSIDER_MAC, [keyBody], { sftpAccount: "partimag" });
            console.log(`outsider on the LAN:\n  ${outsider.output.trim().split("\n").join("\n  ")}`);
            expect(Object.keys(outsider.read)).toContain("clonezilla");
            expect(outsider.secrets).toEqual([]);
            expect(outsider.hashes).toEqual([]);
            expect(outsider.privateKeys).toEqual(["clonezilla /etc/netboot/doors/ocs/request"]);
            expect(outsider.doors).toEqual({ "clonezilla ocs": 3 });
            expect(outsider.sftp["clonezilla ocs"]).not.toBe(0);
            expect(await labSsh("ls /srv/partimag/images/")).not.toContain("outsider-was-here");
        },
        45 * 60_000,
    );

    it(
        "VM A saves its disk to the server through the save entry",
        async () => {
            const result = await pxeBootUntil(MAC_A, { until: [JOB_DONE], diskFile: diskA, timeoutSeconds: 1200 });
            console.log(`save: ${result.seconds.toFixed(0)} s\n  ${jobLines(result.console).join("\n  ")}`);
            expect(result.ok, result.console.slice(-4000)).toBe(true);
            expect(result.console).toContain("netboot-ocs: finished: save of proof (/dev/vda) OK");
            expect(result.console).toContain("netboot-door: the ocs key came from");
            expect(await labSsh("journalctl -t netboot-door --no-pager -o cat")).toContain(`ocs: given to ${MAC_A} at `);
            expect(await labSsh("cat /srv/partimag/images/proof/disk /srv/partimag/images/proof/parts")).toBe("vda\nvda1\n");
            expect(await labSsh("stat -c %U /srv/partimag/images/proof")).toBe("partimag\n");
            // The boot may take all of pxeBootUntil's 20 minutes on a loaded machine: the test waits for it.
        },
        25 * 60_000,
    );

    it(
        "VM B restores it through the restore entry; the partition's checksum matches",
        async () => {
            await stack.setConfig("boot.defaultEntry", "ocs-restore-proof-vda");
            await stack.up();
            const result = await pxeBootUntil(MAC_B, { until: [JOB_DONE], diskFile: diskB, timeoutSeconds: 1200 });
            console.log(`restore: ${result.seconds.toFixed(0)} s\n  ${jobLines(result.console).join("\n  ")}`);
            expect(result.ok, result.console.slice(-4000)).toBe(true);
            expect(result.console).toContain("netboot-ocs: finished: restore of proof (/dev/vda) OK");
            const restoredRaw = join(WORK, "b.raw");
            qemuImg(["convert", "-f", "qcow2", "-O", "raw", diskB, restoredRaw]);
            const restored = sha256OfRange(restoredRaw, source.partition.start * SECTOR, source.partition.sectors * SECTOR);
            console.log(`partition sha256: source ${source.partitionSha256}, restored ${restored}`);
            expect(restored).toBe(source.partitionSha256);
        },
        30 * 60_000,
    );
});
