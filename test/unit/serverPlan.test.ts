import { describe, expect, it } from "vitest";
import { APT_PROXY_CONF } from "../../lib/core/hostPaths";
import type { HostObservation } from "../../lib/host/observe";
import { LTSP_IPXE } from "../../lib/ltsp/bootMenu";
import { LTSP_CONF, renderLtspConf } from "../../lib/ltsp/ltspConf";
import {
    DNSMASQ_CONF,
    IPXE_FILES,
    LTSP_IMG,
    NFS_EXPORTS,
    nulLinkPaths,
    planNulLinks,
    planServer,
    renderServerFiles,
    serverPackages,
} from "../../lib/ltsp/serverPlan";
import { type LtspServerSpec, validateLtspServer } from "../../lib/ltsp/serverSpec";
import { validServerInputs } from "./helpers";

function spec(overrides: Record<string, unknown> = {}): LtspServerSpec {
    const result = validateLtspServer(validServerInputs(overrides));
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

/** A host that already has exactly what `files` say, everything installed and running. */
function matchingHost(files: ReturnType<typeof renderServerFiles>, packages: string[]): HostObservation {
    const observed: HostObservation = { files: {}, services: { dnsmasq: { active: "active", enabled: "enabled" } }, packages: {} };
    // The iPXE binaries and ltsp.img are made by ltsp applets; the menu (in IPXE_FILES too) is a managed file.
    for (const p of [...IPXE_FILES, LTSP_IMG]) observed.files[p] = "0".repeat(64);
    for (const f of files) observed.files[f.path] = f.sha256;
    observed.files[NFS_EXPORTS] = null;
    for (const p of packages) observed.packages[p] = "1.0";
    return observed;
}

const managedOf = (files: ReturnType<typeof renderServerFiles>) => Object.fromEntries(files.map((f) => [f.path, { sha256: f.sha256, backup: null }]));

describe("planning LtspServer changes", () => {
    const base = spec();
    const files = renderServerFiles(base, "test");
    const packages = serverPackages(base);

    it("plans nothing when the host already matches", () => {
        expect(planServer(files, packages, false, managedOf(files), matchingHost(files, packages))).toEqual([]);
    });

    it("a fresh host: proxy first, install, files, every applet, start dnsmasq", () => {
        const fresh: HostObservation = { files: {}, services: { dnsmasq: { active: "inactive", enabled: "not-found" } }, packages: {} };
        for (const p of [...files.map((f) => f.path), ...IPXE_FILES, LTSP_IMG, NFS_EXPORTS]) fresh.files[p] = null;
        for (const p of packages) fresh.packages[p] = null;
        const steps = planServer(files, packages, false, {}, fresh).map(
            (s) => `${s.kind}:${"file" in s ? s.file.path : s.kind === "run" ? s.what : ""}`,
        );
        // The menu after `ltsp ipxe`, which overwrites it.
        expect(steps).toEqual([
            `write:${APT_PROXY_CONF}`,
            "install:",
            `write:${LTSP_CONF}`,
            `write:${DNSMASQ_CONF}`,
            "run:ltsp ipxe",
            "run:ltsp initrd",
            `write:${LTSP_IPXE}`,
            "restart:",
        ]);
    });

    it("a changed ltsp.conf regenerates the iPXE menu and ltsp.img, and leaves dnsmasq alone", () => {
        const changed = renderServerFiles(spec({ ltspConf: { server: { menuTimeout: 0 } } }), "test");
        const steps = planServer(changed, packages, false, managedOf(files), matchingHost(files, packages));
        // MENU_TIMEOUT is a menu setting too: our menu is rewritten, after `ltsp ipxe` has overwritten it.
        expect(steps.map((s) => s.kind + (s.kind === "run" ? `:${s.what}` : "") + ("file" in s ? `:${s.file.path}` : ""))).toEqual([
            `write:${LTSP_CONF}`,
            "run:ltsp ipxe",
            "run:ltsp initrd",
            `write:${LTSP_IPXE}`,
        ]);
    });

    it("a changed DHCP range rewrites the dnsmasq config and restarts it, no applets", () => {
        const changed = renderServerFiles(spec({ dhcp: { mode: "full", rangeStart: "10.213.1.50", rangeEnd: "10.213.1.60" } }), "test");
        const steps = planServer(changed, packages, false, managedOf(files), matchingHost(files, packages));
        expect(steps.map((s) => s.kind)).toEqual(["write", "restart"]);
    });

    it("a stopped, disabled dnsmasq is started and enabled; nothing else", () => {
        const host = matchingHost(files, packages);
        host.services.dnsmasq = { active: "inactive", enabled: "disabled" };
        expect(planServer(files, packages, false, managedOf(files), host).map((s) => s.kind)).toEqual(["restart", "enable"]);
    });

    it("a file no longer wanted is released (restored or removed)", () => {
        const noProxy = renderServerFiles(spec({ aptProxy: undefined }), "test");
        const steps = planServer(noProxy, packages, false, managedOf(files), matchingHost(files, packages));
        expect(steps).toEqual([{ kind: "release", path: APT_PROXY_CONF, why: "no longer managed" }]);
    });
});

describe("planning NUL-suffix links (DIR/000 -> DIR)", () => {
    it("reads the wanted and the formerly made links", () => {
        expect(nulLinkPaths(["/srv/ltsp/i386"], ["/srv/ltsp/i386", "/srv/ltsp/old"])).toEqual(["/srv/ltsp/i386/000", "/srv/ltsp/old/000"]);
    });

    it("links what is missing or points elsewhere, unlinks what is no longer wanted, nothing when the host matches", () => {
        const links = {
            "/srv/ltsp/i386/000": null,
            "/srv/ltsp/amd64/000": "/elsewhere",
            "/srv/ltsp/ok/000": "/srv/ltsp/ok",
            "/srv/ltsp/old/000": "/srv/ltsp/old",
        };
        expect(planNulLinks(["/srv/ltsp/i386", "/srv/ltsp/amd64", "/srv/ltsp/ok"], ["/srv/ltsp/ok", "/srv/ltsp/old"], links)).toEqual([
            { kind: "link", path: "/srv/ltsp/i386/000", target: "/srv/ltsp/i386", why: "NUL-suffixed root path" },
            { kind: "link", path: "/srv/ltsp/amd64/000", target: "/srv/ltsp/amd64", why: "NUL-suffixed root path" },
            { kind: "unlink", path: "/srv/ltsp/old/000", why: "no longer wanted" },
        ]);
        expect(planNulLinks(["/srv/ltsp/ok"], ["/srv/ltsp/ok"], links)).toEqual([]);
        // A link no longer wanted that is already gone: nothing to do.
        expect(planNulLinks([], ["/srv/ltsp/i386"], links)).toEqual([]);
    });
});

describe("rendering", () => {
    it("ltsp.conf: typed fields, then extra keys sorted, values double-quoted", () => {
        const text = renderLtspConf("netboot/dev: LtspServer x", [
            { name: "server", section: { menuTimeout: 5000, defaultImage: "x86_64" } },
            {
                name: "clients",
                section: { kernelParameters: "quiet splash", imageToRam: true, extra: { X_MODES: '"1024x768" "800x600"', CUPS_SERVER: "$SERVER" } },
            },
        ]);
        expect(text).toBe(
            [
                "# /etc/ltsp/ltsp.conf, managed by netboot (netboot/dev: LtspServer x). `pulumi up` reverts hand edits.",
                "# Documentation=man:ltsp.conf(5). Clients receive this file in ltsp.img (`ltsp initrd`).",
                "",
                "[server]",
                'DEFAULT_IMAGE="x86_64"',
                "MENU_TIMEOUT=5000",
                "",
                "[clients]",
                'KERNEL_PARAMETERS="quiet splash"',
                "IMAGE_TO_RAM=1",
                'CUPS_SERVER="$SERVER"',
                'X_MODES="\\"1024x768\\" \\"800x600\\""',
                "",
            ].join("\n"),
        );
    });

    it("dnsmasq: full DHCP has a range and the LTSP boot tags; proxy has pxe-service; none is TFTP only", () => {
        const full = renderServerFiles(spec(), "t").find((f) => f.path === DNSMASQ_CONF)!.content;
        // Tagged "ltsp" (the shared dnsmasq DHCP rendering tags everything, so configs can share a dnsmasq).
        expect(full).toContain("dhcp-range=set:ltsp,10.213.1.100,10.213.1.199,255.255.255.0,12h");
        expect(full).toContain("dhcp-boot=tag:ltsp-ipxe,ltsp/ltsp.ipxe");
        expect(full).not.toContain("pxe-service");
        const proxy = renderServerFiles(spec({ dhcp: { mode: "proxy" } }), "t").find((f) => f.path === DNSMASQ_CONF)!.content;
        expect(proxy).toContain("dhcp-range=set:ltsp,10.213.1.0,proxy,255.255.255.0");
        expect(proxy).toContain('pxe-service=tag:ltsp-bios,tag:!ltsp-ipxe,X86PC,"iPXE",ltsp/undionly.kpxe');
        const none = renderServerFiles(spec({ dhcp: { mode: "none" } }), "t").find((f) => f.path === DNSMASQ_CONF)!.content;
        expect(none).not.toMatch(/^dhcp-/m);
        expect(none).toContain("enable-tftp");
    });
});
