import { mkdirSync, readdirSync, readlinkSync, symlinkSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../lib/core/sha256";
import { ConvergeError, converge, journalFor, recoverInterrupted } from "../../lib/engine/converge";
import type { DesiredFile, Step } from "../../lib/engine/steps";
import { ltspApplet } from "../../lib/ltsp/serverPlan";
import { ChrootHost, FaultyHost } from "./support/chrootHost";

const hosts: ChrootHost[] = [];
function fakeHost(): ChrootHost {
    const host = ChrootHost.create();
    hosts.push(host);
    return host;
}
afterEach(() => {
    for (const h of hosts.splice(0)) h.remove();
});

function file(path: string, content: string, mode = "0644"): DesiredFile {
    return { path, content, mode, sha256: sha256Hex(content) };
}

const JOURNAL = journalFor("test: engine");
const CONF = "/etc/dnsmasq.d/test.conf";
const LTSP_CONF = "/etc/ltsp/ltsp.conf";
const DNSMASQ_CHECK = 'dnsmasq --test --conf-file="$1"';
const IPXE = "/srv/tftp/ltsp/ltsp.ipxe";

/** The administrator's own files, with their own modes and owners, and a running dnsmasq. */
function adminHost(): ChrootHost {
    const host = fakeHost();
    host.put(CONF, "admin dnsmasq\n", 0o640, 0, 117);
    host.put(LTSP_CONF, "admin ltsp.conf\n", 0o600, 1000, 1000);
    host.service("dnsmasq", "active", "enabled");
    return host;
}

const plan = (): Step[] => [
    { kind: "write", file: file(CONF, "ours\n"), check: DNSMASQ_CHECK, reload: ["dnsmasq"] },
    { kind: "write", file: file(LTSP_CONF, "[server]\n"), why: "content differs" },
    { kind: "write", file: file("/etc/new.conf", "new\n", "0600") },
    ltspApplet("ipxe", ["/srv/tftp/ltsp/ltsp.ipxe"]),
    { kind: "restart", service: "dnsmasq" },
];

describe("converge engine (real lib/remote scripts in a busybox chroot)", () => {
    it("writes each file atomically with its mode, keeps the replaced owner, backs up the admin's originals, drops its journal", async () => {
        const host = adminHost();
        const result = await converge(host, plan(), { journal: JOURNAL, managed: {} });
        expect(host.text(CONF)).toBe("ours\n");
        // The step's mode; the owner of the file it replaced (no owner in the step).
        expect(host.modeOwner(CONF)).toBe("0644 0:117");
        expect(host.modeOwner(LTSP_CONF)).toBe("0644 1000:1000");
        expect(host.modeOwner("/etc/new.conf")).toBe("0600 0:0");
        expect(result.managedFiles[CONF]).toEqual({ sha256: sha256Hex("ours\n"), backup: `/var/lib/netboot/backup${CONF}` });
        expect(result.managedFiles["/etc/new.conf"]).toEqual({ sha256: sha256Hex("new\n"), backup: null });
        // The original, as it was, for delete to put back.
        expect(host.text(`/var/lib/netboot/backup${CONF}`)).toBe("admin dnsmasq\n");
        expect(host.modeOwner(`/var/lib/netboot/backup${LTSP_CONF}`)).toBe("0600 1000:1000");
        expect(host.exists(JOURNAL)).toBe(false);
        expect(host.text("/var/log/netboot/mutations.log")).toMatch(/Z write \/etc\/dnsmasq.d\/test.conf\n/);
        // A second converge with the record knows the files: no second backup of our own content.
        const again = await converge(host, [{ kind: "write", file: file(CONF, "ours 2\n") }], { journal: JOURNAL, managed: result.managedFiles });
        expect(again.managedFiles[CONF].backup).toBe(`/var/lib/netboot/backup${CONF}`);
        expect(host.text(`/var/lib/netboot/backup${CONF}`)).toBe("admin dnsmasq\n");
    });

    it("a candidate the daemon's own check rejects changes nothing, even when it comes after other writes", async () => {
        const host = adminHost();
        const steps: Step[] = [
            { kind: "write", file: file(LTSP_CONF, "[server]\n") },
            { kind: "write", file: file(CONF, "BROKEN line\n"), check: DNSMASQ_CHECK, reload: ["dnsmasq"] },
        ];
        const err = await converge(host, steps, { journal: JOURNAL, managed: {} }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(ConvergeError);
        expect((err as Error).message).toContain("dnsmasq rejects the rendered /etc/dnsmasq.d/test.conf:\ndnsmasq: bad option at line 1");
        // Checked before anything was written: nothing to restore, no command that changes the host.
        expect((err as ConvergeError).restored).toEqual([]);
        expect(host.mutations).toEqual([]);
        expect(host.text(CONF)).toBe("admin dnsmasq\n");
        expect(host.text(LTSP_CONF)).toBe("admin ltsp.conf\n");
        expect(host.modeOwner(LTSP_CONF)).toBe("0600 1000:1000");
        expect(host.exists(JOURNAL)).toBe(false);
    });

    it("a failed applet restores every file of the apply (content, mode, owner; new ones removed) and restarts dnsmasq on the old config", async () => {
        const host = adminHost();
        host.put("/srv/tftp/ltsp/ltsp.ipxe", "old menu\n", 0o644);
        host.failing("ltsp-ipxe");
        const err = (await converge(host, plan(), { journal: JOURNAL, managed: {} }).catch((e: Error) => e)) as ConvergeError;
        expect(err.message).toMatch(/ltsp ipxe failed \(exit 1\)/);
        expect(err.message).toContain("Restored the previous");
        expect(err.restored.sort()).toEqual(["/etc/new.conf", "/srv/tftp/ltsp/ltsp.ipxe", CONF, LTSP_CONF].sort());
        expect(host.text(CONF)).toBe("admin dnsmasq\n");
        expect(host.modeOwner(CONF)).toBe("0640 0:117");
        expect(host.text(LTSP_CONF)).toBe("admin ltsp.conf\n");
        expect(host.modeOwner(LTSP_CONF)).toBe("0600 1000:1000");
        expect(host.exists("/etc/new.conf")).toBe(false);
        expect(host.text("/srv/tftp/ltsp/ltsp.ipxe")).toBe("old menu\n");
        expect(host.calls().filter((c) => c.startsWith("systemctl restart"))).toEqual(["systemctl restart dnsmasq"]);
        expect(host.exists(JOURNAL)).toBe(false);
    });

    it("a failed restart (the daemon refuses the new config) restores and restarts on the old one", async () => {
        const host = adminHost();
        host.failing("restart-dnsmasq");
        const err = (await converge(host, plan(), { journal: JOURNAL, managed: {} }).catch((e: Error) => e)) as ConvergeError;
        expect(err.message).toContain("restart dnsmasq failed");
        expect(err.message).toContain("fake journal of -u dnsmasq");
        expect(host.text(CONF)).toBe("admin dnsmasq\n");
        // The restart on the restored files fails too (the fake keeps failing): said, not hidden.
        expect(err.problems.join("\n")).toContain("restart dnsmasq on the restored files");
    });

    it("a connection dropped mid-apply: a new connection restores the files at once", async () => {
        const host = adminHost();
        // The applet's output saved, two writes, then the connection drops.
        const faulty = new FaultyHost(host).dropAfter(3);
        const err = (await converge(faulty, plan(), { journal: JOURNAL, managed: {}, reconnect: async () => new FaultyHost(host) }).catch(
            (e: Error) => e,
        )) as ConvergeError;
        expect(err.message).toContain("connection lost");
        expect(err.restored.sort()).toEqual([CONF, LTSP_CONF, IPXE].sort());
        expect(host.text(CONF)).toBe("admin dnsmasq\n");
        expect(host.modeOwner(LTSP_CONF)).toBe("0600 1000:1000");
        expect(host.exists("/etc/new.conf")).toBe(false);
    });

    it("a connection that stays down: the journal stays on the host and the next apply restores it before it looks", async () => {
        const host = adminHost();
        // Saved, three writes, then the connection drops at the applet.
        const faulty = new FaultyHost(host).dropAfter(4);
        const err = (await converge(faulty, plan(), {
            journal: JOURNAL,
            managed: {},
            reconnect: async () => Promise.reject(new Error("down")),
        }).catch((e: Error) => e)) as Error;
        expect(err.message).toContain(`saved in ${JOURNAL} on the host`);
        expect(host.text(CONF)).toBe("ours\n");
        expect(host.exists(`${JOURNAL}/index`)).toBe(true);
        const restored = await recoverInterrupted(host, JOURNAL, ["dnsmasq"]);
        expect(restored.sort()).toEqual(["/etc/new.conf", CONF, LTSP_CONF, IPXE].sort());
        expect(host.text(CONF)).toBe("admin dnsmasq\n");
        expect(host.modeOwner(CONF)).toBe("0640 0:117");
        expect(host.exists("/etc/new.conf")).toBe(false);
        expect(host.exists(JOURNAL)).toBe(false);
        expect(await recoverInterrupted(host, JOURNAL, ["dnsmasq"])).toEqual([]);
    });

    it("release puts the admin's original back; a failure after it restores our file and the backup", async () => {
        const host = adminHost();
        const first = await converge(host, [{ kind: "write", file: file(CONF, "ours\n") }], { journal: JOURNAL, managed: {} });
        host.failing("restart-dnsmasq");
        const steps: Step[] = [
            { kind: "release", path: CONF, reload: ["dnsmasq"] },
            { kind: "restart", service: "dnsmasq" },
        ];
        await expect(converge(host, steps, { journal: JOURNAL, managed: first.managedFiles })).rejects.toThrow(/restart dnsmasq failed/);
        expect(host.text(CONF)).toBe("ours\n");
        expect(host.text(`/var/lib/netboot/backup${CONF}`)).toBe("admin dnsmasq\n");
        host.failing("restart-dnsmasq", false);
        const released = await converge(host, steps, { journal: JOURNAL, managed: first.managedFiles });
        expect(released.managedFiles).toEqual({});
        expect(host.text(CONF)).toBe("admin dnsmasq\n");
        expect(host.modeOwner(CONF)).toBe("0640 0:117");
    });

    it("link steps: made, corrected and removed, read back; a missing target refuses the plan before anything changes", async () => {
        const host = adminHost();
        for (const dir of ["/srv/ltsp/i386", "/srv/ltsp/amd64", "/srv/ltsp/old"]) mkdirSync(host.path(dir), { recursive: true });
        symlinkSync("/srv/ltsp/elsewhere", host.path("/srv/ltsp/amd64/000"));
        symlinkSync("/srv/ltsp/old", host.path("/srv/ltsp/old/000"));
        const steps: Step[] = [
            { kind: "link", path: "/srv/ltsp/i386/000", target: "/srv/ltsp/i386" },
            { kind: "link", path: "/srv/ltsp/amd64/000", target: "/srv/ltsp/amd64" },
            { kind: "unlink", path: "/srv/ltsp/old/000" },
        ];
        await converge(host, steps, { journal: JOURNAL, managed: {} });
        expect(readlinkSync(host.path("/srv/ltsp/i386/000"))).toBe("/srv/ltsp/i386");
        expect(readlinkSync(host.path("/srv/ltsp/amd64/000"))).toBe("/srv/ltsp/amd64");
        expect(host.exists("/srv/ltsp/old/000")).toBe(false);
        // The link replaced the old one, and nothing landed inside the directory it pointed at.
        expect(host.exists("/srv/ltsp/amd64/000/000")).toBe(false);
        expect(host.exists(JOURNAL)).toBe(false);

        const refused = host.mutations.length;
        const err = await converge(host, [{ kind: "link", path: "/srv/ltsp/x86/000", target: "/srv/ltsp/x86" }, ...plan()], {
            journal: JOURNAL,
            managed: {},
        }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(ConvergeError);
        expect((err as Error).message).toBe(`${host.label}: /srv/ltsp/x86 is not a directory to link to, so nothing was changed`);
        expect(host.mutations.length).toBe(refused);
        expect(host.text(CONF)).toBe("admin dnsmasq\n");
    });

    it("a failure after link steps puts every link back as it was (absent, another target, present)", async () => {
        const host = adminHost();
        for (const dir of ["/srv/ltsp/i386", "/srv/ltsp/amd64", "/srv/ltsp/old"]) mkdirSync(host.path(dir), { recursive: true });
        symlinkSync("/srv/ltsp/elsewhere", host.path("/srv/ltsp/amd64/000"));
        symlinkSync("/srv/ltsp/old", host.path("/srv/ltsp/old/000"));
        host.failing("restart-dnsmasq");
        const steps: Step[] = [
            { kind: "link", path: "/srv/ltsp/i386/000", target: "/srv/ltsp/i386" },
            { kind: "link", path: "/srv/ltsp/amd64/000", target: "/srv/ltsp/amd64" },
            { kind: "unlink", path: "/srv/ltsp/old/000" },
            { kind: "restart", service: "dnsmasq" },
        ];
        const err = (await converge(host, steps, { journal: JOURNAL, managed: {} }).catch((e: Error) => e)) as ConvergeError;
        expect(err.message).toContain("restart dnsmasq failed");
        expect(err.restored.sort()).toEqual(["/srv/ltsp/amd64/000", "/srv/ltsp/i386/000", "/srv/ltsp/old/000"]);
        expect(host.exists("/srv/ltsp/i386/000")).toBe(false);
        expect(readlinkSync(host.path("/srv/ltsp/amd64/000"))).toBe("/srv/ltsp/elsewhere");
        expect(readlinkSync(host.path("/srv/ltsp/old/000"))).toBe("/srv/ltsp/old");
        expect(readdirSync(host.path("/srv/ltsp/old"))).toEqual(["000"]);
        expect(host.exists(JOURNAL)).toBe(false);
    });

    it("a write confined to a chroot refuses a path that a link inside it leads out of; nothing is written outside", async () => {
        const host = fakeHost();
        const { symlinkSync, mkdirSync } = await import("node:fs");
        mkdirSync(host.path("/srv/ltsp/thin"), { recursive: true });
        mkdirSync(host.path("/outside"));
        // An absolute link inside the image, as an administrator's image might have.
        symlinkSync("/outside", host.path("/srv/ltsp/thin/etc"));
        const step: Step = { kind: "write", file: file("/srv/ltsp/thin/etc/motd", "hi\n"), confineTo: "/srv/ltsp/thin", keepOriginal: false };
        await expect(converge(host, [step], { journal: JOURNAL, managed: {} })).rejects.toThrow(
            "/srv/ltsp/thin/etc/motd would be written outside /srv/ltsp/thin (at /outside, through a link)",
        );
        expect(host.exists("/outside/motd")).toBe(false);
        // Inside, it writes.
        await converge(host, [{ ...step, file: file("/srv/ltsp/thin/root/motd", "hi\n") }], { journal: JOURNAL, managed: {} });
        expect(host.text("/srv/ltsp/thin/root/motd")).toBe("hi\n");
    });

    it("a Windows cmdlet plan is a remote-script step: one command line, audited as a mutation", async () => {
        const host = fakeHost();
        const step: Step = {
            kind: "remote-script",
            what: "configure DHCP scope 10.20.0.0",
            commandLine: "powershell.exe -EncodedCommand AAAA",
            mutating: true,
        };
        const result = await converge(host, [step], { journal: JOURNAL, managed: {} });
        expect(host.commandLines).toEqual(["powershell.exe -EncodedCommand AAAA"]);
        expect(host.mutations).toEqual(["configure DHCP scope 10.20.0.0"]);
        expect(result.managedFiles).toEqual({});
    });

    it("an empty plan sends nothing", async () => {
        const host = fakeHost();
        await converge(host, [], { journal: JOURNAL, managed: {} });
        expect(host.mutations).toEqual([]);
    });
});
