// biome-ignore-all lint/suspicious/noTemplateCurlyInString: iPXE scripts name their settings ${like_this}; these strings are iPXE, not templates
import { describe, expect, it } from "vitest";
import type { NodeSpec } from "../../lib/core/node";
import { bootSchema, LIGHTTPD_CONF, LTSP_IPXE, NBD_SERVER_CONF, renderBootMenu, renderNbdServerConf } from "../../lib/ltsp/bootMenu";
import { renderServerFiles, serverPackages, serverServices } from "../../lib/ltsp/serverPlan";
import { type LtspServerSpec, validateLtspServer } from "../../lib/ltsp/serverSpec";
import { validServerInputs } from "./helpers";

function spec(overrides: Record<string, unknown> = {}): LtspServerSpec {
    const result = validateLtspServer(validServerInputs(overrides));
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

function reasons(overrides: Record<string, unknown>): string[] {
    const result = validateLtspServer(validServerInputs(overrides));
    return result.ok ? [] : result.failures.map((f) => f.reason);
}

const node = (mac: string, hostname: string, image: string, extra: Partial<NodeSpec> = {}): NodeSpec => ({
    nodeName: hostname,
    mac,
    hostname,
    image,
    ltspConf: {},
    role: "",
    ...extra,
});

const menu = (boot: Record<string, unknown>, opts: { images?: string[]; nodes?: NodeSpec[]; server?: Record<string, unknown> } = {}) =>
    renderBootMenu(
        { boot: bootSchema.parse(boot), images: opts.images ?? ["thin-a", "thin-b"], nodes: opts.nodes ?? [], ltspConf: { server: opts.server } },
        "test",
    );

/** The lines between a label and the next blank line. */
function block(script: string, label: string): string[] {
    const lines = script.split("\n");
    const start = lines.indexOf(label);
    if (start < 0) throw new Error(`no ${label} in the menu`);
    const end = lines.indexOf("", start);
    return lines.slice(start, end < 0 ? undefined : end);
}

describe("the boot menu (ltsp.ipxe)", () => {
    it("NFS keeps the method line `ltsp ipxe` writes (ltsp 23.02, server/ipxe/ltsp.ipxe); NBD boots the export named after the image", () => {
        expect(menu({})).toContain("\nset cmdline_method root=/dev/nfs nfsroot=${srv}:/srv/ltsp ltsp.image=images/${img}.img loop.max_part=9\n");
        // The kernel command line that booted to login in the lab (lab.md), with ${img} as the export name.
        expect(menu({ rootTransport: "nbd" })).toContain("\nset cmdline_method root=/dev/nbd0 nbdroot=${srv},${img},nbd0\n");
        expect(menu({ rootTransport: "nbd" })).not.toContain("nfsroot");
    });

    it("kernel and initrds over TFTP by path, or over HTTP from the boot server", () => {
        const tftp = block(menu({}), ":ltsp");
        expect(tftp).toContain("kernel /ltsp/${img}/vmlinuz initrd=ltsp.img initrd=initrd.img ${cmdline}");
        expect(tftp).toContain("initrd /ltsp/ltsp.img");
        const http = block(menu({ http: true }), ":ltsp");
        expect(http).toContain("kernel http://${srv}/ltsp/${img}/vmlinuz initrd=ltsp.img initrd=initrd.img ${cmdline}");
        expect(http).toContain("initrd http://${srv}/ltsp/ltsp.img");
        expect(http).toContain("initrd http://${srv}/ltsp/${img}/initrd.img");
    });

    it("one section per client, in MAC order, as `ltsp ipxe` writes them: host name, image, kernel parameters, timeout", () => {
        const script = menu(
            {},
            {
                nodes: [
                    node("52:54:00:00:00:02", "pc02", "thin-b"),
                    node("52:54:00:00:00:01", "pc01", "thin-a", { kernelParameters: "console=ttyS0", menuTimeout: -1 }),
                ],
            },
        );
        expect(block(script, ":52:54:00:00:00:01")).toEqual([
            ":52:54:00:00:00:01",
            "set hostname pc01",
            "set img thin-a",
            "set cmdline_client console=ttyS0",
            "set menu-timeout -1",
            "goto start",
        ]);
        expect(block(script, ":52:54:00:00:00:02")).toEqual([":52:54:00:00:00:02", "set hostname pc02", "set img thin-b", "goto start"]);
        expect(script.indexOf(":52:54:00:00:00:01")).toBeLessThan(script.indexOf(":52:54:00:00:00:02"));
    });

    it("unknown MACs get the default entry: boot.defaultEntry, else [server] DEFAULT_IMAGE, else LTSP's per-architecture name", () => {
        expect(menu({ defaultEntry: "thin-b" })).toContain("\nset img thin-b\n# The root path (DHCP option 17)");
        expect(menu({}, { server: { defaultImage: "thin-a" } })).toContain("\nset img thin-a\n# The root path (DHCP option 17)");
        expect(menu({})).toContain("\ncpuid --ext 29 && set img x86_64 || set img x86_32\n");
    });

    it("a root path (option 17) picks the image only when its raw bytes name a served image, with or without the NUL Windows DHCP appends", () => {
        const script = menu({ defaultEntry: "thin-b" }, { nodes: [node("52:54:00:00:00:01", "pc01", "thin-b")] });
        // `ltsp ipxe`'s line would jump to whatever label the root path spells.
        expect(script).not.toContain("set img ${root-path}");
        const start = script.indexOf("isset ${root-path} || goto root_path_done");
        const done = script.indexOf("\n:root_path_done\n");
        expect(start).toBeGreaterThan(script.indexOf("set img thin-b"));
        // After the default, before the per-MAC sections: a node's own section still decides its image.
        expect(done).toBeGreaterThan(start);
        expect(done).toBeLessThan(script.indexOf("goto ${mac} || goto start"));
        const tests = script
            .slice(start, done)
            .split("\n")
            .filter((l) => l.startsWith("iseq"));
        // ASCII by hand: t 74, h 68, i 69, n 6e, - 2d, a 61, b 62, / 2f; the NUL is 00.
        expect(tests).toEqual([
            'iseq "${root-path:hex}" "74:68:69:6e:2d:61" && set img thin-a && goto root_path_done ||',
            'iseq "${root-path:hex}" "74:68:69:6e:2d:61:00" && set img thin-a && goto root_path_done ||',
            'iseq "${root-path:hex}" "74:68:69:6e:2d:61:2f" && set img thin-a && goto root_path_done ||',
            'iseq "${root-path:hex}" "74:68:69:6e:2d:61:2f:00" && set img thin-a && goto root_path_done ||',
            'iseq "${root-path:hex}" "74:68:69:6e:2d:62" && set img thin-b && goto root_path_done ||',
            'iseq "${root-path:hex}" "74:68:69:6e:2d:62:00" && set img thin-b && goto root_path_done ||',
            'iseq "${root-path:hex}" "74:68:69:6e:2d:62:2f" && set img thin-b && goto root_path_done ||',
            'iseq "${root-path:hex}" "74:68:69:6e:2d:62:2f:00" && set img thin-b && goto root_path_done ||',
        ]);
        // The bytes as received go to the console; a root path that names no image keeps the default.
        expect(script).toContain("\necho netboot: root path (DHCP option 17) as received, hex: ${root-path:hex}\n");
        expect(script.slice(start, done)).toContain("\necho netboot: root path ${root-path} names no image served here; booting ${img}");
    });

    it("[server] MENU_TIMEOUT and KERNEL_PARAMETERS are the menu-wide values, as `ltsp ipxe` takes them", () => {
        const script = menu({}, { server: { menuTimeout: 3000, kernelParameters: "console=ttyS0" } });
        expect(script).toContain("\nisset ${menu-timeout} || set menu-timeout 3000\n");
        expect(script).toContain("\nset cmdline_ltsp BOOTIF=01-${mac:hexhyp}\nset cmdline_client console=ttyS0\n");
        expect(menu({})).toContain("|| set menu-timeout 5000\n");
    });

    it("items: the images keyed 1, 2, ..., extra entries in their own group, then local disk and the iPXE tools", () => {
        const script = menu({
            menuEntries: [
                {
                    id: "clonezilla-save",
                    title: "Clonezilla: save this disk",
                    key: "z",
                    script: ["kernel http://${srv}/clonezilla/vmlinuz boot=live", "boot"],
                },
            ],
        });
        const items = script.split("\n").filter((l) => l.startsWith("item"));
        expect(items).toEqual([
            "item --gap                        Boot an image from the network in LTSP mode:",
            "item --key 1 thin-a               thin-a",
            "item --key 2 thin-b               thin-b",
            "item",
            "item --gap                        More:",
            "item --key z clonezilla-save      Clonezilla: save this disk",
            "item",
            "item --gap                        Other options:",
            "item --key c config               Enter iPXE configuration",
            "item --key s shell                Drop to iPXE shell",
            "item --key d disk                 Boot from the first local disk",
            "item",
            "item --key x exit                 Exit iPXE and continue BIOS boot",
        ]);
        // The entry's own commands under its label; a boot that returns falls to "Booting failed".
        expect(block(script, ":clonezilla-save")).toEqual([
            ":clonezilla-save",
            "kernel http://${srv}/clonezilla/vmlinuz boot=live",
            "boot",
            "goto failed",
        ]);
        // Each image label falls through to :images, where the method line is.
        expect(block(script, ":thin-a")).toEqual([
            ":thin-a",
            ":thin-b",
            ":images",
            expect.stringMatching(/^#/),
            expect.stringMatching(/^set cmdline_method /),
            "goto ltsp",
        ]);
    });

    it("without extra entries there is no empty group", () => {
        expect(menu({})).not.toContain("More:");
    });
});

describe("boot input validation", () => {
    it("an extra entry may not take a script label, an image's name or another entry's id", () => {
        const entry = (id: string) => ({ id, title: id, script: ["boot"] });
        expect(reasons({ images: ["thin"], boot: { menuEntries: [entry("shell")] } })[0]).toMatch(
            /^boot\.menuEntries\.0\.id: "shell" is a label of the menu script itself/,
        );
        expect(reasons({ images: ["thin"], boot: { menuEntries: [entry("root_path_done")] } })[0]).toMatch(
            /"root_path_done" is a label of the menu script/,
        );
        expect(reasons({ images: ["thin"], boot: { menuEntries: [entry("thin")] } })[0]).toMatch(/"thin" is the name of a served image/);
        expect(reasons({ images: ["thin"], boot: { menuEntries: [entry("cz"), entry("cz")] } })[0]).toMatch(
            /^boot\.menuEntries\.1\.id: "cz" is the id of another entry/,
        );
    });

    it("an entry's script is one command per line, no labels", () => {
        expect(reasons({ boot: { menuEntries: [{ id: "cz", title: "x", script: ["kernel a\nboot"] }] } }).join()).toMatch(/contains a line break/);
        expect(reasons({ boot: { menuEntries: [{ id: "cz", title: "x", script: [":start"] }] } }).join()).toMatch(/is not an iPXE command/);
        expect(reasons({ boot: { menuEntries: [{ id: "cz", title: "x", script: [] }] } }).join()).toMatch(/needs at least one iPXE command/);
    });

    it("the default entry must be a served image, an extra entry or disk", () => {
        expect(reasons({ images: ["thin"], boot: { defaultEntry: "render" } })[0]).toMatch(
            /^boot\.defaultEntry: "render" is neither a served image \(thin\)/,
        );
        expect(reasons({ images: ["thin"], boot: { defaultEntry: "disk" } })).toEqual([]);
        expect(reasons({ images: ["thin"], boot: { defaultEntry: "cz", menuEntries: [{ id: "cz", title: "x", script: ["boot"] }] } })).toEqual([]);
        expect(reasons({ boot: { rootTransport: "iscsi" } })[0]).toMatch(/^boot\.rootTransport/);
    });

    it("defaults keep today's behaviour: NFS, TFTP", () => {
        expect(spec().boot).toEqual({ rootTransport: "nfs", http: false, menuEntries: [] });
    });
});

describe("what a transport adds to the server", () => {
    it("NBD: nbd-server, its package and one read-only export per image; HTTP: lighttpd on the LAN address", () => {
        const nbd = spec({ images: ["thin-b", "thin-a"], boot: { rootTransport: "nbd", http: true } });
        expect(serverServices(nbd)).toEqual(["dnsmasq", "nbd-server", "lighttpd"]);
        expect(serverPackages(nbd)).toEqual(expect.arrayContaining(["nbd-server", "lighttpd"]));
        const files = Object.fromEntries(renderServerFiles(nbd, "test").map((f) => [f.path, f.content]));
        expect(Object.keys(files)).toEqual(expect.arrayContaining([LTSP_IPXE, NBD_SERVER_CONF, LIGHTTPD_CONF]));
        // nbd-server(5): [generic] then one section per export; sorted by name.
        expect(files[NBD_SERVER_CONF]).toContain(
            "[generic]\n    user = root\n    group = root\n    listenaddr = 10.213.1.1\n\n[thin-a]\n    exportname = /srv/ltsp/images/thin-a.img\n    readonly = true\n    authfile = /etc/nbd-server/allow\n\n[thin-b]\n    exportname = /srv/ltsp/images/thin-b.img\n    readonly = true\n    authfile = /etc/nbd-server/allow\n",
        );
        expect(files[LIGHTTPD_CONF]).toContain('server.document-root = "/srv/tftp"');
        // validServerInputs puts the server on 10.213.1.1/24: lighttpd listens there only.
        expect(files[LIGHTTPD_CONF]).toContain('server.bind          = "10.213.1.1"');
    });

    it("NFS without HTTP: neither nbd-server nor lighttpd", () => {
        const nfs = spec();
        expect(serverServices(nfs)).toEqual(["dnsmasq"]);
        expect(serverPackages(nfs)).not.toContain("nbd-server");
        expect(renderServerFiles(nfs, "test").map((f) => f.path)).toEqual(expect.not.arrayContaining([NBD_SERVER_CONF, LIGHTTPD_CONF]));
        expect(renderNbdServerConf([], { address: "10.213.1.1", network: "10.213.1.0/24" }, "test")).toContain("[generic]");
    });
});
