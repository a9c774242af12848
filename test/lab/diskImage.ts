import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Test disks for the Clonezilla proof: a partitioned disk with a file system and known files, made without root tools. */

export const SECTOR = 512;

export interface MbrPartition {
    /** First sector (LBA). */
    start: number;
    /** Length in sectors. */
    sectors: number;
    /** Partition type: 0x83 Linux. */
    type: number;
}

/**
 * A DOS (MBR) partition table sector. Layout from the MBR format (as fdisk and the kernel read it):
 * 4-byte disk signature at 440, four 16-byte entries at 446 (status, CHS start, type, CHS end,
 * LBA start and sector count as little-endian 32-bit numbers), 0x55 0xAA at 510. CHS fields hold
 * FE FF FF, the "use LBA" value partitioning tools write for addresses past CHS range.
 */
export function mbrSector(signature: number, partitions: readonly MbrPartition[]): Buffer {
    if (partitions.length > 4) throw new Error("an MBR holds four primary partitions");
    const mbr = Buffer.alloc(SECTOR);
    mbr.writeUInt32LE(signature >>> 0, 440);
    partitions.forEach((p, i) => {
        const at = 446 + 16 * i;
        mbr[at] = 0x00;
        mbr.set([0xfe, 0xff, 0xff], at + 1);
        mbr[at + 4] = p.type;
        mbr.set([0xfe, 0xff, 0xff], at + 5);
        mbr.writeUInt32LE(p.start, at + 8);
        mbr.writeUInt32LE(p.sectors, at + 12);
    });
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    return mbr;
}

export interface ProofDisk {
    raw: string;
    partition: MbrPartition;
    /** sha256 of the partition's bytes as written. */
    partitionSha256: string;
}

/**
 * A raw disk of `sizeMiB` with one Linux partition from 1 MiB to the end, an ext4 file system
 * made by mkfs.ext4 -d from `files` (name -> content), nothing else written.
 */
export function makeProofDisk(dir: string, sizeMiB: number, files: Record<string, string | Buffer>): ProofDisk {
    mkdirSync(dir, { recursive: true });
    const content = join(dir, "content");
    rmSync(content, { recursive: true, force: true });
    mkdirSync(content);
    for (const [name, data] of Object.entries(files)) writeFileSync(join(content, name), data);
    const partition: MbrPartition = { start: 2048, sectors: (sizeMiB * 1024 * 1024) / SECTOR - 2048, type: 0x83 };
    const fs = join(dir, "partition.img");
    rmSync(fs, { force: true });
    writeFileSync(fs, "");
    truncateSync(fs, partition.sectors * SECTOR);
    execFileSync("mkfs.ext4", ["-q", "-F", "-L", "proof", "-d", content, fs], { stdio: "pipe" });
    const raw = join(dir, "disk.raw");
    rmSync(raw, { force: true });
    writeFileSync(raw, mbrSector(0x6e657462, [partition]));
    truncateSync(raw, sizeMiB * 1024 * 1024);
    const fd = openSync(raw, "r+");
    try {
        writeSync(fd, readFileSync(fs), 0, partition.sectors * SECTOR, partition.start * SECTOR);
    } finally {
        closeSync(fd);
    }
    return { raw, partition, partitionSha256: sha256OfRange(raw, partition.start * SECTOR, partition.sectors * SECTOR) };
}

/** sha256 of `length` bytes of a file from `offset`. */
export function sha256OfRange(file: string, offset: number, length: number): string {
    const hash = createHash("sha256");
    const fd = openSync(file, "r");
    try {
        const chunk = Buffer.alloc(1024 * 1024);
        let done = 0;
        while (done < length) {
            const n = readSync(fd, chunk, 0, Math.min(chunk.length, length - done), offset + done);
            if (n === 0) throw new Error(`${file} ends before ${offset + length}`);
            hash.update(chunk.subarray(0, n));
            done += n;
        }
    } finally {
        closeSync(fd);
    }
    return hash.digest("hex");
}

export function qemuImg(args: readonly string[]): string {
    return execFileSync("qemu-img", args, { encoding: "utf8", stdio: "pipe" });
}
