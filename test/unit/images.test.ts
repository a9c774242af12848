import { describe, expect, it } from "vitest";
import { planImageBuild, sectionsUsingImage } from "../../lib/images/imageBuild";
import { buildHash, imagePackages, validateImage } from "../../lib/images/imageSpec";
import type { RemoteHost } from "../../lib/ssh/remoteHost";
import { TEST_KEY, TEST_PIN } from "./helpers";

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

    it("a chroot built from the same inputs is squashed again without debootstrap or apt", () => {
        const steps = planImageBuild(spec({ debootstrap: { architecture: "amd64" } }), true);
        expect(describeSteps(steps)).toEqual(["install", "image-squash", "image-record-build"]);
    });
});
