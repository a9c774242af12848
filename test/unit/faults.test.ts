import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../lib/core/sha256";
import { ConvergeError, converge, journalFor } from "../../lib/engine/converge";
import { corruptCandidate, type Fault, faultyHost, fillTarget, INVALID_LINE, parseFault, resetFaultForTests } from "../../lib/engine/faults";
import type { ExecOptions, ExecResult, Host } from "../../lib/engine/host";
import { SshConnectError } from "../../lib/engine/host";
import type { Step } from "../../lib/engine/steps";
import { ltspApplet } from "../../lib/ltsp/serverPlan";
import { remoteScript } from "../../lib/remote/scripts";
import { ChrootHost, FaultyHost } from "./support/chrootHost";

/** A host that records what the fault wrapper asked of it and what reached it. */
function recordingHost(): Host & { calls: string[]; stdins: string[]; cut: () => void } {
    const calls: string[] = [];
    const stdins: string[] = [];
    let cut = false;
    const exec = async (script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> => {
        if (cut) throw new SshConnectError("connection is closed");
        const name =
            script === remoteScript("fault-fill-disk") ? "fault-fill-disk" : script === remoteScript("check-candidate") ? "check-candidate" : script;
        calls.push(`exec ${name} ${args.join(" ")}`.trim());
        if (opts.stdin !== undefined) stdins.push(String(opts.stdin));
        if (script === "systemctl reboot") cut = true;
        return { stdout: "filled /srv/ltsp (0 KiB left) with /srv/ltsp/.netboot-fault-fill\n", stderr: "", code: 0 };
    };
    return {
        label: "root@test:22",
        calls,
        stdins,
        exec,
        run: async (_what, script, args, opts) => (await exec(script, args, opts)).stdout,
        mutate: async (what, _script, args) => (await exec(`mutate ${what}`, args)).stdout,
        runCommandLine: async () => "",
        readFile: async () => undefined,
        exclusive: (_name, fn) => fn(),
        cut: () => {
            cut = true;
            calls.push("cut");
        },
    };
}

const fault = (text: string): Fault => parseFault(text)!;
const CHECK = 'dnsmasq --test --conf-file="$1"';

describe("NETBOOT_FAULT (the fault suite's host wrapper)", () => {
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

    it("corrupts only the candidate of the matching write, once per process", async () => {
        const inner = recordingHost();
        const reported: string[] = [];
        const host = faultyHost(inner, fault("dnsmasq.d@corrupt-candidate"), { report: (l) => reported.push(l) });
        const check = (path: string, content: string) => host.run(`check ${path}`, remoteScript("check-candidate"), [CHECK], { stdin: content });
        await check("/etc/ltsp/ltsp.conf", "a\n");
        // The write itself is not the check: sent as it is.
        await host.mutate("write /etc/dnsmasq.d/ltsp-dnsmasq.conf", "script", [], { stdin: "port=0" });
        await check("/etc/dnsmasq.d/ltsp-dnsmasq.conf", "port=0");
        // Spent: the rollback and a later step see the real content.
        await check("/etc/dnsmasq.d/ltsp-dnsmasq.conf", "port=0");
        expect(inner.stdins).toEqual(["a\n", "port=0\n" + INVALID_LINE + "\n", "port=0"]);
        expect(reported).toEqual(['fault: an invalid line added to the candidate of "write /etc/dnsmasq.d/ltsp-dnsmasq.conf"']);
    });

    it("the corrupted candidate is one dnsmasq's own --test refuses (the real dnsmasq)", () => {
        const dir = mkdtempSync(join(tmpdir(), "fault-"));
        const good = "port=0\ndhcp-range=10.0.0.100,10.0.0.199,1h\n";
        writeFileSync(join(dir, "good.conf"), good);
        writeFileSync(join(dir, "bad.conf"), corruptCandidate(good));
        expect(corruptCandidate("port=0")).toBe(`port=0\n${INVALID_LINE}\n`);
        execFileSync("dnsmasq", ["--test", `--conf-file=${join(dir, "good.conf")}`], { stdio: "pipe" });
        expect(() => execFileSync("dnsmasq", ["--test", `--conf-file=${join(dir, "bad.conf")}`], { stdio: "pipe" })).toThrow(/bad option|error/i);
    });

    it("drop cuts the connection before the matching change and nothing else; the change then fails as a dropped connection", async () => {
        const inner = recordingHost();
        const reported: string[] = [];
        const host = faultyHost(inner, fault("restart dnsmasq@drop"), { cut: inner.cut, report: (l) => reported.push(l) });
        await host.mutate("write /etc/ltsp/ltsp.conf", "script");
        await expect(host.mutate("restart dnsmasq", "script")).rejects.toBeInstanceOf(SshConnectError);
        expect(inner.calls).toEqual(["exec mutate write /etc/ltsp/ltsp.conf", "cut"]);
        expect(reported).toEqual(['fault: cut the SSH connection before "restart dnsmasq"']);
    });

    it("drop on a host that cannot cut its connection is refused, naming it", async () => {
        const host = faultyHost(recordingHost(), fault("restart@drop"));
        await expect(host.mutate("restart dnsmasq", "script")).rejects.toThrow(
            "NETBOOT_FAULT: root@test:22 cannot cut its connection (not an SSH host)",
        );
    });

    it("reboot asks systemd and waits until the connection is gone", async () => {
        const inner = recordingHost();
        const reported: string[] = [];
        const host = faultyHost(inner, fault("ltsp ipxe@reboot"), { report: (l) => reported.push(l) });
        await expect(host.mutate("ltsp ipxe", "script")).rejects.toBeInstanceOf(SshConnectError);
        expect(inner.calls).toEqual(["exec systemctl reboot"]);
        expect(reported).toEqual(['fault: rebooted root@test:22 before "ltsp ipxe"']);
    });

    it("fill-disk fills the written file's directory, the argument, or the image build area", async () => {
        expect(fillTarget({ match: "x", kind: "fill-disk" }, "/srv/ltsp/.thin.netboot-build/etc/motd")).toBe("/srv/ltsp/.thin.netboot-build/etc");
        expect(fillTarget({ match: "x", kind: "fill-disk", argument: "/srv/tftp" }, "/etc/x")).toBe("/srv/tftp");
        expect(fillTarget({ match: "x", kind: "fill-disk" }, undefined)).toBe("/srv/ltsp");
        const inner = recordingHost();
        const reported: string[] = [];
        const host = faultyHost(inner, fault("ltsp image@fill-disk"), { report: (l) => reported.push(l) });
        await host.mutate("ltsp image thin", "script");
        expect(inner.calls).toEqual(["exec fault-fill-disk /srv/ltsp", "exec mutate ltsp image thin"]);
        expect(reported[0]).toMatch(/^fault: filled \/srv\/ltsp .* before "ltsp image thin"$/);
        resetFaultForTests();
        const written = recordingHost();
        await faultyHost(written, fault("motd@fill-disk")).mutate("write /srv/ltsp/.thin.netboot-build/etc/motd", "script");
        expect(written.calls[0]).toBe("exec fault-fill-disk /srv/ltsp/.thin.netboot-build/etc");
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

/**
 * What the lab's fault suite checks through the real CLI, here with converge and the real
 * lib/remote scripts in a busybox chroot: the fault comes in through the host wrapper only.
 */
describe("faults at a named step of an LtspServer-shaped plan", () => {
    const DNSMASQ = "/etc/dnsmasq.d/ltsp-dnsmasq.conf";
    const LTSP_CONF = "/etc/ltsp/ltsp.conf";
    const IPXE = "/srv/tftp/ltsp/ltsp.ipxe";
    const JOURNAL = journalFor("test: faults");
    const hosts: ChrootHost[] = [];
    afterEach(() => {
        for (const h of hosts.splice(0)) h.remove();
        resetFaultForTests();
    });

    /** The old configuration, as an earlier apply left it, and a running dnsmasq. */
    function oldHost(): ChrootHost {
        const host = ChrootHost.create();
        hosts.push(host);
        host.put(DNSMASQ, "port=0\n", 0o644);
        host.put(LTSP_CONF, "[server]\n", 0o644);
        host.put(IPXE, "#!ipxe old menu\n", 0o644);
        host.service("dnsmasq", "active", "enabled");
        return host;
    }
    const write = (path: string, content: string, extra: Partial<Extract<Step, { kind: "write" }>> = {}): Step => ({
        kind: "write",
        file: { path, content, mode: "0644", sha256: sha256Hex(content) },
        ...extra,
    });
    /** Towards the new configuration, as planServer orders it. */
    const plan = (): Step[] => [
        write(LTSP_CONF, "[server]\nMENU_TIMEOUT=0\n"),
        write(DNSMASQ, "port=0\nlog-dhcp\n", { check: CHECK, reload: ["dnsmasq"] }),
        ltspApplet("ipxe", [IPXE]),
        ltspApplet("initrd", ["/srv/tftp/ltsp/ltsp.img"]),
        write(IPXE, "#!ipxe new menu\n"),
        { kind: "restart", service: "dnsmasq" },
    ];
    const files = (host: ChrootHost) => [DNSMASQ, LTSP_CONF, IPXE].map((p) => host.text(p));
    const OLD = ["port=0\n", "[server]\n", "#!ipxe old menu\n"];

    it("corrupt-candidate: dnsmasq's check refuses the candidate; nothing changes", async () => {
        const host = oldHost();
        const err = await converge(faultyHost(host, fault(`write ${DNSMASQ}@corrupt-candidate`)), plan(), { journal: JOURNAL, managed: {} }).catch(
            (e: Error) => e,
        );
        expect(err).toBeInstanceOf(ConvergeError);
        expect((err as Error).message).toContain(`dnsmasq rejects the rendered ${DNSMASQ}:\ndnsmasq: bad option at line 1`);
        expect(host.mutations).toEqual([]);
        expect(files(host)).toEqual(OLD);
        // Spent: the next apply converges.
        await converge(faultyHost(host, fault(`write ${DNSMASQ}@corrupt-candidate`)), plan(), { journal: JOURNAL, managed: {} });
        expect(host.text(DNSMASQ)).toBe("port=0\nlog-dhcp\n");
    });

    for (const [kind, step] of [
        ["drop", "ltsp ipxe"],
        ["reboot", "ltsp initrd"],
    ] as const) {
        it(`${kind} before "${step}": the connection is gone; a new one puts back every file the apply touched`, async () => {
            const host = oldHost();
            const faulty = new FaultyHost(host);
            const reported: string[] = [];
            const err = (await converge(
                faultyHost(faulty, fault(`${step}@${kind}`), { cut: () => faulty.cut(), report: (l) => reported.push(l) }),
                plan(),
                {
                    journal: JOURNAL,
                    managed: {},
                    reconnect: async () => new FaultyHost(host),
                },
            ).catch((e: Error) => e)) as ConvergeError;
            expect(err).toBeInstanceOf(ConvergeError);
            expect(err.message).toMatch(/closed/);
            expect(reported).toHaveLength(1);
            expect(reported[0]).toContain(`before "${step}"`);
            // Both configs were written before the fault; all came back.
            expect(host.mutations).toContain(`write ${DNSMASQ}`);
            expect(err.restored).toEqual(expect.arrayContaining([DNSMASQ, LTSP_CONF, IPXE]));
            expect(files(host)).toEqual(OLD);
            expect(host.calls()).toContain("systemctl restart dnsmasq");
            expect(host.exists(JOURNAL)).toBe(false);
        });
    }
});
