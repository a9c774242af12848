import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { beforeStep, candidateUnderFault, fillTarget, INVALID_LINE, parseFault, resetFaultForTests } from "../../lib/engine/faults";
import type { ExecResult, Host } from "../../lib/engine/host";
import { SshConnectError } from "../../lib/engine/host";
import { remoteScript } from "../../lib/remote/scripts";

/** A host that records what the fault hook asked of it. */
function recordingHost(): Host & { calls: string[] } {
    const calls: string[] = [];
    let cut = false;
    const exec = async (script: string, args: readonly string[] = []): Promise<ExecResult> => {
        if (cut) throw new SshConnectError("connection is closed");
        calls.push(`exec ${script === remoteScript("fault-fill-disk") ? "fault-fill-disk" : script} ${args.join(" ")}`.trim());
        if (script === "systemctl reboot") cut = true;
        return { stdout: "filled /srv/ltsp (0 KiB left) with /srv/ltsp/.netboot-fault-fill\n", stderr: "", code: 0 };
    };
    return {
        label: "root@test:22",
        calls,
        exec,
        run: async (_what, script, args) => (await exec(script, args)).stdout,
        mutate: async (_what, script, args) => (await exec(script, args)).stdout,
        runCommandLine: async () => "",
        readFile: async () => undefined,
        exclusive: (_name, fn) => fn(),
        cutConnection: () => {
            cut = true;
            calls.push("cut");
        },
    };
}

describe("NETBOOT_FAULT (fault suite hook)", () => {
    beforeEach(() => resetFaultForTests());

    it("parses <step match>@<fault>[=dir] and refuses anything else", () => {
        expect(parseFault(undefined)).toBeUndefined();
        expect(parseFault("")).toBeUndefined();
        expect(parseFault("write /etc/ltsp/ltsp.conf@drop")).toEqual({ match: "write /etc/ltsp/ltsp.conf", kind: "drop", argument: undefined });
        expect(parseFault("ltsp image@fill-disk=/srv/ltsp")).toEqual({ match: "ltsp image", kind: "fill-disk", argument: "/srv/ltsp" });
        expect(() => parseFault("drop")).toThrow(/<step match>@<fault>/);
        expect(() => parseFault("x@explode")).toThrow(/unknown fault "explode"/);
        expect(() => parseFault("x@drop=/tmp")).toThrow(/only fill-disk takes an argument/);
        expect(() => parseFault("x@fill-disk=relative")).toThrow(/absolute directory/);
    });

    it("corrupts only the matching candidate, once per process", () => {
        const env = { NETBOOT_FAULT: "dnsmasq.d@corrupt-candidate" };
        expect(candidateUnderFault("write /etc/ltsp/ltsp.conf", "a\n", env)).toBe("a\n");
        expect(candidateUnderFault("write /etc/dnsmasq.d/ltsp-dnsmasq.conf", "port=0", env)).toBe(`port=0\n${INVALID_LINE}\n`);
        // Spent: the rollback and a later step see the real content.
        expect(candidateUnderFault("write /etc/dnsmasq.d/ltsp-dnsmasq.conf", "port=0", env)).toBe("port=0");
    });

    it("the corrupted candidate is one dnsmasq's own --test refuses (the real dnsmasq)", () => {
        const dir = mkdtempSync(join(tmpdir(), "fault-"));
        const good = "port=0\ndhcp-range=10.0.0.100,10.0.0.199,1h\n";
        writeFileSync(join(dir, "good.conf"), good);
        writeFileSync(join(dir, "bad.conf"), candidateUnderFault("write x", good, { NETBOOT_FAULT: "write x@corrupt-candidate" }));
        execFileSync("dnsmasq", ["--test", `--conf-file=${join(dir, "good.conf")}`], { stdio: "pipe" });
        expect(() => execFileSync("dnsmasq", ["--test", `--conf-file=${join(dir, "bad.conf")}`], { stdio: "pipe" })).toThrow(/bad option|error/i);
    });

    it("drop cuts the connection before the matching step and nothing else", async () => {
        const host = recordingHost();
        const env = { NETBOOT_FAULT: "restart dnsmasq@drop" };
        expect(await beforeStep(host, "write /etc/ltsp/ltsp.conf", "/etc/ltsp/ltsp.conf", env)).toBeUndefined();
        expect(await beforeStep(host, "restart dnsmasq", undefined, env)).toMatch(/cut the SSH connection/);
        expect(host.calls).toEqual(["cut"]);
        await expect(host.exec("true")).rejects.toBeInstanceOf(SshConnectError);
    });

    it("reboot asks systemd and waits until the connection is gone", async () => {
        const host = recordingHost();
        expect(await beforeStep(host, "ltsp ipxe", undefined, { NETBOOT_FAULT: "ltsp ipxe@reboot" })).toMatch(/rebooted/);
        expect(host.calls).toEqual(["exec systemctl reboot"]);
    });

    it("fill-disk fills the written file's directory, the argument, or the image build area", async () => {
        expect(fillTarget({ match: "x", kind: "fill-disk" }, "/srv/ltsp/.thin.netboot-build/etc/motd")).toBe("/srv/ltsp/.thin.netboot-build/etc");
        expect(fillTarget({ match: "x", kind: "fill-disk", argument: "/srv/tftp" }, "/etc/x")).toBe("/srv/tftp");
        expect(fillTarget({ match: "x", kind: "fill-disk" }, undefined)).toBe("/srv/ltsp");
        const host = recordingHost();
        expect(await beforeStep(host, "ltsp image thin", undefined, { NETBOOT_FAULT: "ltsp image@fill-disk" })).toMatch(/filled \/srv\/ltsp/);
        expect(host.calls).toEqual(["exec fault-fill-disk /srv/ltsp"]);
    });

    it("fault-fill-disk.sh fills a small filesystem and refuses one over 8 GiB (df, fallocate, dd stubbed: nothing real is filled)", () => {
        const bin = mkdtempSync(join(tmpdir(), "fault-bin-"));
        const calls = join(bin, "calls");
        const stub = (name: string, body: string) => {
            writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >>${calls}\n${body}\n`, { mode: 0o755 });
        };
        // df -P answers for a filesystem mounted at /srv/ltsp of $FS_KB KiB with 2 GiB available.
        stub("df", `printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/loop0 %s 1 2097152 1%% /srv/ltsp\\n' "$FS_KB"`);
        stub("fallocate", "true");
        stub("dd", "true");
        stub("sync", "true");
        stub("mkdir", "true");
        const fill = (fsKb: number) =>
            execFileSync("sh", ["-c", remoteScript("fault-fill-disk"), "fault-fill-disk", "/srv/ltsp/images"], {
                env: { PATH: `${bin}:/usr/bin:/bin`, FS_KB: String(fsKb) },
                stdio: "pipe",
                encoding: "utf8",
            });
        // A 3 GiB test filesystem: the fill file goes at its mount point, as large as what is available.
        expect(fill(3 * 1024 * 1024)).toMatch(/^filled \/srv\/ltsp \(2097152 KiB left\) with \/srv\/ltsp\/.netboot-fault-fill/);
        expect(readFileSync(calls, "utf8")).toMatch(/fallocate -l 2097152KiB -- \/srv\/ltsp\/.netboot-fault-fill/);
        // 8 GiB + 1 KiB: refused before anything is written.
        writeFileSync(calls, "");
        expect(() => fill(8 * 1024 * 1024 + 1)).toThrow(/refusing to fill \/srv\/ltsp: 8388609 KiB is not a small test filesystem/);
        expect(readFileSync(calls, "utf8")).not.toMatch(/fallocate|dd /);
    });
});
