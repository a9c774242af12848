import { describe, expect, it } from "vitest";
import { BASE_CACHE, cachedBase, planImageBuild, sectionsUsingImage } from "../../lib/images/imageBuild";
import { baseHash, buildHash, imagePackages, validateImage } from "../../lib/images/imageSpec";
import { remoteScript } from "../../lib/remote/scripts";
import type { RemoteHost } from "../../lib/ssh/remoteHost";
import { TEST_KEY, TEST_PIN } from "./helpers";
import { ChrootHost } from "./support/chrootHost";

const connection = { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN };

function reasons(inputs: Record<string, unknown>): string[] {
    const result = validateImage({ connection, name: "thin", ...inputs });
    return result.ok ? [] : result.failures.map((f) => f.reason);
}

describe("ChrootImage", () => {
    it("rejects an unsupported architecture at its own field", () => {
        expect(reasons({ source: { debootstrap: { architecture: "arm64" } } })).toContain(
            'source.debootstrap.architecture: "arm64" is not one of "amd64", "i386"',
        );
    });

    it("wants exactly one source", () => {
        expect(reasons({ source: { path: "/srv/vm/a.img", serverRoot: true } })[0]).toMatch(/^source: .* must name exactly one source/);
        expect(reasons({ source: {} })[0]).toMatch(/must name exactly one source/);
    });

    it("rejects an image name that is not a simple word, and a multi-line post-install command", () => {
        expect(reasons({ name: "../etc", source: { serverRoot: true } })[0]).toMatch(/^name: "..\/etc" is not an image name/);
        expect(reasons({ source: { debootstrap: { architecture: "amd64", postInstall: ["a\nb"] } } })[0]).toMatch(/contains a newline/);
    });

    // systemd-sysv: LTSP's initrd copies /sbin/init, which minbase lacks (lab.md); nbd-client: the NBD root's initramfs hook.
    it("always installs ltsp, a kernel for the architecture, an init and nbd-client", () => {
        expect(
            imagePackages({
                suite: "bookworm",
                architecture: "i386",
                mirror: "http://x/debian",
                packages: ["vim"],
                extraFiles: {},
                serverFiles: {},
                postInstall: [],
                initramfsModules: "most",
            }),
        ).toEqual(["initramfs-tools", "linux-image-686", "ltsp", "nbd-client", "systemd-sysv", "vim", "zstd"]);
    });

    it("build hash: changes with what is built, not with the connection or rollback", () => {
        const spec = (extra: Record<string, unknown>) => {
            const r = validateImage({ connection, name: "thin", source: { debootstrap: { architecture: "amd64" } }, ...extra });
            if (!r.ok) throw new Error("fixture");
            return r.spec;
        };
        const base = buildHash(spec({}));
        expect(buildHash(spec({ rollback: true, aptProxy: "http://10.0.0.1:3142" }))).toBe(base);
        expect(buildHash(spec({ source: { debootstrap: { architecture: "amd64", packages: ["vim"] } } }))).not.toBe(base);
        expect(buildHash(spec({ compression: "xz" }))).not.toBe(base);
    });

    it("finds the ltsp.conf sections that still boot an image (delete refuses then)", async () => {
        const conf =
            '[server]\nMENU_TIMEOUT=5000\n\n[52:54:00:00:00:01]\nHOSTNAME="pc01"\nDEFAULT_IMAGE="thin"\n\n[52:54:00:00:00:02]\nDEFAULT_IMAGE="thin-2"\n';
        const host = { readFile: async () => Buffer.from(conf) } as unknown as RemoteHost;
        expect(await sectionsUsingImage(host, "thin")).toEqual(["52:54:00:00:00:01"]);
        expect(await sectionsUsingImage(host, "other")).toEqual([]);
    });
});

describe("ChrootImage build plan (engine steps)", () => {
    const spec = (source: Record<string, unknown>) => {
        const result = validateImage({ connection, name: "thin", source });
        if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
        return result.spec;
    };
    const describeSteps = (steps: ReturnType<typeof planImageBuild>) =>
        steps.map((s) => (s.kind === "run" ? s.script : s.kind === "write" ? `write ${s.file.path}` : s.kind));

    it("debootstrap: dependencies, chroot in the build directory, files inside it, publish, then ltsp image one at a time", () => {
        const steps = planImageBuild(spec({ debootstrap: { architecture: "amd64", extraFiles: { "/etc/motd": "lab\n" } } }), false);
        expect(describeSteps(steps)).toEqual([
            "install",
            "image-debootstrap",
            "image-packages",
            "image-base-save",
            "write /srv/ltsp/.thin.netboot-build/etc/motd",
            "image-in-chroot",
            "image-publish-chroot",
            "image-squash",
            "image-record-build",
        ]);
        const motd = steps.find((s) => s.kind === "write");
        // A file of the image's own build: no backup of an administrator's original is kept for it.
        expect(motd).toMatchObject({ keepOriginal: false, confineTo: "/srv/ltsp/.thin.netboot-build" });
        expect(steps.find((s) => s.kind === "run" && s.script === "image-squash")).toMatchObject({ exclusive: "ltsp", what: "ltsp image thin" });
    });

    it("a base in the server's cache replaces debootstrap and apt; the image's own files still follow", () => {
        const steps = planImageBuild(spec({ debootstrap: { architecture: "amd64", extraFiles: { "/etc/motd": "lab\n" } } }), false, "cached");
        expect(describeSteps(steps)).toEqual([
            "install",
            "image-base-restore",
            "write /srv/ltsp/.thin.netboot-build/etc/motd",
            "image-in-chroot",
            "image-publish-chroot",
            "image-squash",
            "image-record-build",
        ]);
    });

    it("base hash: the same for images that differ in name, files or post-install; another for other packages, modules or suite", () => {
        const base = (source: Record<string, unknown>) => baseHash(spec({ debootstrap: { architecture: "amd64", ...source } }).source.debootstrap!);
        const plain = base({});
        expect(base({ extraFiles: { "/etc/motd": "x\n" }, postInstall: ["true"] })).toBe(plain);
        const other = validateImage({ connection, name: "other", source: { debootstrap: { architecture: "amd64" } } });
        expect(other.ok && baseHash(other.spec.source.debootstrap!)).toBe(plain);
        expect(base({ packages: ["netcat-openbsd"] })).not.toBe(plain);
        expect(base({ initramfsModules: "netboot" })).not.toBe(plain);
        expect(base({ suite: "trixie" })).not.toBe(plain);
        // The package list is what apt installs, whatever order the config gives it in.
        expect(base({ packages: ["b-pkg", "a-pkg"] })).toBe(base({ packages: ["a-pkg", "b-pkg"] }));
    });

    it("a cached base counts only with its own hash and for a week", async () => {
        const source = spec({ debootstrap: { architecture: "amd64" } }).source.debootstrap!;
        const hash = baseHash(source);
        const now = Date.UTC(2026, 10, 22);
        const marker = (h: string, madeMs: number) => ({ readFile: async () => Buffer.from(`${h}\t${madeMs / 1000}\n`) });
        expect(await cachedBase(marker(hash, now - 3600_000), source, now)).toBe("cached");
        expect(await cachedBase(marker(hash, now - 8 * 24 * 3600_000), source, now)).toBe("missing");
        expect(await cachedBase(marker("0".repeat(64), now), source, now)).toBe("missing");
        expect(await cachedBase({ readFile: async () => undefined }, source, now)).toBe("missing");
    });

    it("the base scripts: save keeps a whole copy and the newest four; restore makes the build directory anew from it", async () => {
        const host = ChrootHost.create();
        try {
            host.put("/srv/ltsp/.thin.netboot-build/etc/os-release", "bookworm\n");
            host.put("/srv/ltsp/.thin.netboot-build/usr/bin/tool", "#!/bin/sh\n", 0o755);
            const hashes = ["a", "b", "c", "d", "e"].map((c) => c.repeat(64));
            for (const [i, hash] of hashes.entries()) {
                await host.run("save", remoteScript("image-base-save"), ["/srv/ltsp/.thin.netboot-build", BASE_CACHE, hash, "4"]);
                // ls -t orders by mtime in seconds: make the order unambiguous.
                await host.run("age", `touch -d "2026-11-0${i + 1} 00:00:00" ${BASE_CACHE}/${hash}`);
            }
            const kept = (await host.run("list", `ls ${BASE_CACHE}`)).split("\n").filter(Boolean);
            // The fifth save pruned the oldest at that moment: a's directory (b..e were younger or as old).
            expect(kept.sort()).toEqual(hashes.slice(1));
            expect(host.text(`${BASE_CACHE}/${hashes[4]}/.netboot-base`)).toMatch(new RegExp(`^${hashes[4]}\t\\d+\n$`));
            expect(host.modeOwner(`${BASE_CACHE}/${hashes[4]}/usr/bin/tool`)).toBe("0755 0:0");
            // Two images of one base save it at once (they build side by side): one whole copy, no partial left.
            const both = "f".repeat(64);
            host.put("/srv/ltsp/.other.netboot-build/etc/os-release", "bookworm\n");
            await Promise.all(
                ["/srv/ltsp/.thin.netboot-build", "/srv/ltsp/.other.netboot-build"].map((build) =>
                    host.run("save", remoteScript("image-base-save"), [build, BASE_CACHE, both, "9"]),
                ),
            );
            expect(host.text(`${BASE_CACHE}/${both}/etc/os-release`)).toBe("bookworm\n");
            expect(host.text(`${BASE_CACHE}/${both}/.netboot-base`)).toMatch(new RegExp(`^${both}\t`));
            expect((await host.run("list", `ls -a ${BASE_CACHE}`)).split("\n").filter((f) => f.includes("partial"))).toEqual([]);
            host.put("/srv/ltsp/.thin.netboot-build/stale", "from a failed build\n");
            await host.run("restore", remoteScript("image-base-restore"), [`${BASE_CACHE}/${hashes[4]}`, "/srv/ltsp/.thin.netboot-build"]);
            expect(host.text("/srv/ltsp/.thin.netboot-build/etc/os-release")).toBe("bookworm\n");
            expect(host.exists("/srv/ltsp/.thin.netboot-build/stale")).toBe(false);
            expect(host.exists("/srv/ltsp/.thin.netboot-build/.netboot-base")).toBe(false);
        } finally {
            host.remove();
        }
    });

    it("a chroot built from the same inputs is squashed again without debootstrap or apt", () => {
        const steps = planImageBuild(spec({ debootstrap: { architecture: "amd64" } }), true);
        expect(describeSteps(steps)).toEqual(["install", "image-squash", "image-record-build"]);
    });
});

describe("image-publish-chroot.sh (the real script in a busybox chroot)", () => {
    // Issue 17, 2: adopt: true keeps what it adopted. The publish step removed an adopted chroot while the
    // create message promised that delete leaves what was there.
    it("an adopted chroot (no build mark) is kept beside the new one; our previous build is replaced", async () => {
        const host = ChrootHost.create();
        try {
            host.put("/srv/ltsp/thin/etc/os-release", "the administrator's chroot\n");
            host.put("/srv/ltsp/.thin.netboot-build/etc/os-release", "built\n");
            const out = await host.run("publish", remoteScript("image-publish-chroot"), ["/srv/ltsp/.thin.netboot-build", "/srv/ltsp/thin", "h1"]);
            expect(out).toBe("kept\t/srv/ltsp/thin.adopted\n");
            expect(host.text("/srv/ltsp/thin.adopted/etc/os-release")).toBe("the administrator's chroot\n");
            expect(host.text("/srv/ltsp/thin/etc/os-release")).toBe("built\n");
            host.put("/srv/ltsp/.thin.netboot-build/etc/os-release", "built again\n");
            expect(await host.run("publish", remoteScript("image-publish-chroot"), ["/srv/ltsp/.thin.netboot-build", "/srv/ltsp/thin", "h2"])).toBe(
                "",
            );
            expect(host.text("/srv/ltsp/thin/etc/os-release")).toBe("built again\n");
            expect(host.text("/srv/ltsp/thin/.netboot-build")).toBe("h2\n");
        } finally {
            host.remove();
        }
    });
});
