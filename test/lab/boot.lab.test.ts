// biome-ignore-all lint/suspicious/noTemplateCurlyInString: iPXE scripts name their settings ${like_this}; these strings are iPXE, not templates
import { beforeAll, describe, expect, it } from "vitest";
import { dhcpProbe, labSsh, labStackConfig, labUp, loginPrompt, mutationCount, pxeBootUntil, serialLoginLtspConf, TestStack } from "./harness";
import { expectBooted, image } from "./showImage";

/**
 * The boot model on the lab server through the real CLI, and clients booting it: two images of
 * one base (one debootstrap), nodes, truthful previews, stack config errors, the Linux DHCP
 * backends, rebuild and rollback; and a BIOS and a UEFI client booting their own image to a
 * login prompt. One file, so the two images are built once for all of it.
 *
 * The LtspServer serves each image as a read-only NBD export (this kernel has no NFS), iPXE
 * fetches kernel and initrds over HTTP from lighttpd, and the menu is ours
 * (templates/ltsp.ipxe.hbs). Each image carries a unit that prints, on the serial console, the
 * image's marker, the running host name and the per-client ltsp.conf value MOSIX as LTSP itself
 * evaluates ltsp.conf on the client (through an `ltsp` applet of its own, test/lab/showImage.ts).
 *
 * Addresses come from `netboot-lab env` (NETBOOT_LAB_ID picks the lab instance), so the file runs on
 * any instance. Boots run in pairs (two cores): about 90 s
 * for BIOS and 110 s for UEFI under TCG alone (lab.md), several times that beside the other lab group.
 */
const BIOS_MAC = "52:54:00:b0:00:01";
const UEFI_MAC = "52:54:00:b0:00:02";
const RESERVED_MAC = "52:54:00:b0:00:03";
/** In no node: boots the menu's default entry. */
const UNKNOWN_MAC = "52:54:00:b0:00:98";

/**
 * What a MAC without a section boots (boot.defaultEntry): thin-b, the menu's second item, so that a menu
 * ignoring defaultEntry (and falling to its first item, thin-a) shows in the unknown MAC's boot.
 */
const DEFAULT_ENTRY = "thin-b";

/**
 * The changed lines ("+ ..." or "- ...", trimmed) of one generated file's diff in a preview's `rendered`
 * input; never its unchanged context lines. Empty when the file is not shown as changed.
 */
function changedLines(preview: string, path: string): string[] {
    const lines = preview.split("\n");
    const at = lines.findIndex((line) => new RegExp(`^\\s*~ ${path.replaceAll(".", "\\.")}\\s*:\\s*$`).test(line));
    if (at < 0) return [];
    const indent = /^ */.exec(lines[at])![0].length;
    const changed: string[] = [];
    // The file's diff is indented past its key; the next key (changed or not) ends it.
    for (const line of lines.slice(at + 1)) {
        if (/^ */.exec(line)![0].length <= indent + 2) break;
        const change = /^\s*([+-]) (.*)$/.exec(line);
        if (change) changed.push(`${change[1]} ${change[2].trim()}`);
    }
    return changed;
}

/** The lab LAN's address ending in `host` (the lab LANs are /24s). */
const lanAddress = (env: Record<string, string>, host: number) => env.NETBOOT_LAB_SERVER_LAN_ADDR.replace(/\d+$/, String(host));

const nodes = (env: Record<string, string>) => [
    // Notations as administrators write them: the resources normalize.
    {
        hostname: "bios-client",
        mac: "52-54-00-B0-00-01",
        image: "thin-a",
        kernelParameters: "console=ttyS0",
        menuTimeout: -1,
        ltspConf: { MOSIX: "N" },
        role: "thin-client",
    },
    {
        hostname: "uefi-client",
        mac: "5254.00b0.0002",
        image: "thin-b",
        kernelParameters: "console=ttyS0",
        menuTimeout: -1,
        ltspConf: { MOSIX: "Y" },
        role: "thin-client",
    },
    { hostname: "render-01", mac: RESERVED_MAC, image: "thin-a", ip: lanAddress(env, 50), role: "render-node" },
];

const LOGIN = "login:";
const show = (marker: string, hostname: string, mosix: string) => `netboot-show: image=thin-${marker} hostname=${hostname} MOSIX=${mosix}`;
/** A bound, not a wait: beside the other lab group's clients a UEFI boot took 375 s (CI, 2026-12-06). */
const BOOT_SECONDS = 1200;

describe("the boot model on the lab server, through the real CLI, and clients booting it to a login prompt", () => {
    let stack: TestStack;
    let env: Record<string, string>;

    beforeAll(async () => {
        env = await labUp(true);
        // The lab keeps the servers' base cache across fresh disks (as a site keeps a cache
        // volume); this file empties it so that its first builds run debootstrap and apt.
        await labSsh("rm -rf /var/cache/netboot/images/*");
        stack = await TestStack.create(
            "boot",
            labStackConfig(env, {
                images: [image("a"), image("b")],
                nodes: nodes(env),
                // Unknown MACs see the menu for 3 s, then boot the site's default entry.
                ltspConf: serialLoginLtspConf(3000),
                boot: { rootTransport: "nbd", http: true, defaultEntry: DEFAULT_ENTRY },
            }),
        );
    });

    // 25 minutes: two images of one base, from debootstrap; on a fresh machine beside the other lab group it took over 15.
    it(
        "builds both images of one base with one debootstrap, with progress per phase, and serves them",
        async () => {
            const run = await stack.up();
            // Whichever starts first makes and caches the base; the other waits for it and starts from the cache.
            const debootstrapped = ["thin-a", "thin-b"].filter((n) =>
                new RegExp(`ChrootImage ${n}: debootstrap ${n} \\(bookworm amd64\\) \\[\\+\\d+\\.\\ds\\]`).test(run.output),
            );
            expect(debootstrapped).toHaveLength(1);
            const [first] = debootstrapped;
            const second = first === "thin-a" ? "thin-b" : "thin-a";
            expect(run.output).toMatch(new RegExp(`ChrootImage ${first}: cache the base of ${first} \\([0-9a-f]{12}\\)`));
            expect(run.output).toMatch(new RegExp(`ChrootImage ${second}: base of ${second} from the cache \\([0-9a-f]{12}\\)`));
            for (const name of ["thin-a", "thin-b"])
                expect(run.output).toMatch(new RegExp(`ChrootImage ${name}: ltsp image ${name} \\[\\+\\d+\\.\\ds\\]`));
            const outputs = await stack.outputs();
            for (const name of ["thin-a", "thin-b"]) {
                expect(outputs.images[name].sha256).toMatch(/^[0-9a-f]{64}$/);
                expect(outputs.images[name].kernelVersion).toMatch(/^6\.1\./);
            }
            const conf = await labSsh("cat /etc/ltsp/ltsp.conf");
            expect(conf).toContain('[52:54:00:b0:00:01]\nHOSTNAME="bios-client"\nDEFAULT_IMAGE="thin-a"');
            expect(await labSsh("grep -c '^:52:54:00:b0:00:0[12]$' /srv/tftp/ltsp/ltsp.ipxe")).toBe("2\n");
            // Each image a read-only NBD export; the menu boots NBD roots with kernels over HTTP.
            expect(await labSsh("systemctl is-active nbd-server lighttpd dnsmasq")).toBe("active\nactive\nactive\n");
            const nbd = await labSsh("cat /etc/nbd-server/config");
            expect(nbd).toContain("[thin-a]\n    exportname = /srv/ltsp/images/thin-a.img\n    readonly = true");
            expect(nbd).toContain("[thin-b]\n    exportname = /srv/ltsp/images/thin-b.img\n    readonly = true");
            const menu = await labSsh("cat /srv/tftp/ltsp/ltsp.ipxe");
            expect(menu).toContain("set cmdline_method root=/dev/nbd0 nbdroot=${srv},${img},nbd0");
            expect(menu).toContain("kernel http://${srv}/ltsp/${img}/vmlinuz initrd=ltsp.img initrd=initrd.img ${cmdline}");
            expect(menu).toContain(`:${BIOS_MAC}\nset hostname bios-client\nset img thin-a\n`);
            // lighttpd serves the kernel in TFTP: a HEAD request by bash's /dev/tcp (the lab server has no curl).
            const lan = env.NETBOOT_LAB_SERVER_LAN_ADDR;
            const head = await labSsh(
                `exec 3<>/dev/tcp/${lan}/80; printf 'HEAD /ltsp/thin-a/vmlinuz HTTP/1.0\\r\\nHost: ${lan}\\r\\n\\r\\n' >&3; cat <&3; stat -c 'size=%s' /srv/tftp/ltsp/thin-a/vmlinuz`,
            );
            expect(head).toMatch(/^HTTP\/1\.0 200 OK/);
            const served = /Content-Length: (\d+)/i.exec(head)?.[1];
            const onDisk = /size=(\d+)/.exec(head)?.[1];
            expect(served).toBe(onDisk);
        },
        25 * 60_000,
    );

    it("nothing changed: the next up rebuilds nothing and changes nothing", async () => {
        const before = await mutationCount();
        await stack.up();
        expect(await stack.lastChanges()).toEqual({ same: 7 });
        expect(await mutationCount()).toBe(before);
    });

    // Issue 17, 1: the same machine (the same pinned host key) reached by its DNS name is the same host. A replacement
    // there (create the new, then delete the old) emptied /srv/ltsp/images and put the administrator's ltsp.conf back.
    it("the server reached by its DNS name instead of its address: updates, no replacement; images and files stay", async () => {
        const served =
            "/etc/ltsp/ltsp.conf /etc/dnsmasq.d/ltsp-dnsmasq.conf /srv/tftp/ltsp/ltsp.ipxe /srv/ltsp/images/thin-a.img /srv/ltsp/images/thin-b.img";
        const before = await labSsh(`sha256sum ${served} /srv/tftp/ltsp/thin-*/vmlinuz`);
        await stack.setConfig("server.host", env.NETBOOT_LAB_SERVER_NAME);
        const preview = await stack.preview();
        expect(preview.stdout).not.toMatch(/\(replace\)|to replace|create-replacement|delete-replaced/);
        const updates = [...preview.stdout.matchAll(/~ pulumi-nodejs:dynamic\/netboot:(\w+): \(update\)/g)].map((m) => m[1]).sort();
        expect(updates).toEqual(expect.arrayContaining(["ChrootImage", "LtspServer"]));
        expect(preview.stdout).toMatch(new RegExp(`host\\s*: "${env.NETBOOT_LAB_HOST.replaceAll(".", "\\.")}" => "${env.NETBOOT_LAB_SERVER_NAME}"`));
        const run = await stack.up();
        expect(run.output).not.toMatch(/deleting from|replaced/);
        expect(await labSsh(`sha256sum ${served} /srv/tftp/ltsp/thin-*/vmlinuz`)).toBe(before);
        expect(await stack.lastChanges()).not.toHaveProperty("replace");
    });

    it(
        "a BIOS client and a UEFI client, booted side by side, each reach login on their own image, host name and ltsp.conf value",
        async () => {
            const [bios, uefi] = await Promise.all([
                pxeBootUntil(BIOS_MAC, { until: [show("a", "bios-client", "N"), LOGIN], timeoutSeconds: BOOT_SECONDS }),
                pxeBootUntil(UEFI_MAC, { uefi: true, until: [show("b", "uefi-client", "Y"), LOGIN], timeoutSeconds: BOOT_SECONDS }),
            ]);
            expectBooted(bios, "BIOS client (SeaBIOS + iPXE ROM)");
            expectBooted(uefi, "UEFI client (OVMF PXE -> snponly.efi)");
            expect(bios.console).toMatch(loginPrompt("bios-client"));
            expect(uefi.console).toMatch(loginPrompt("uefi-client"));
            expect(uefi.console).toContain("NBP filename is ltsp/snponly.efi");
            for (const c of [bios.console, uefi.console]) expect(c).toMatch(/Command line:.* root=\/dev\/nbd0 nbdroot=[0-9.]+,thin-[ab],nbd0/);
        },
        (BOOT_SECONDS + 120) * 1000,
    );

    it("a hand edit of the menu shows in refresh and the next up puts ours back", async () => {
        await labSsh("sed -i 's/^set menu-timeout -1$/set menu-timeout 0/' /srv/tftp/ltsp/ltsp.ipxe");
        const refresh = await stack.refresh();
        expect(refresh.output).toContain("/srv/tftp/ltsp/ltsp.ipxe");
        const up = await stack.up();
        expect(up.output).toContain("write /srv/tftp/ltsp/ltsp.ipxe");
        expect(await labSsh("grep -c '^set menu-timeout 0$' /srv/tftp/ltsp/ltsp.ipxe || true")).toBe("0\n");
    });

    it(
        "reassigning one MAC is one node update and one regeneration; the client then boots the other image, an unknown MAC the default",
        async () => {
            const log = () => labSsh("cat /var/log/netboot/mutations.log");
            const before = (await log()).split("\n").filter(Boolean).length;
            await stack.setConfig("nodes[0].image", "thin-b");
            const preview = await stack.preview();
            expect(preview.output).toMatch(/~\s+pulumi-nodejs:dynamic\/netboot:NodeAssignment: \(update\)[\s\S]*bios-client/);
            // The rendered menu is an input of the server: its diff is in the preview, the client's line changed
            // (the menu's other "set img" lines, the default's and the other clients', are unchanged context).
            expect(changedLines(preview.output, "/srv/tftp/ltsp/ltsp.ipxe")).toEqual(["- set img thin-a", "+ set img thin-b"]);
            await stack.up();
            expect(await stack.lastChanges()).toEqual({ same: 5, update: 2 });
            const added = (await log()).split("\n").filter(Boolean).slice(before);
            expect(added.filter((l) => / ltsp ipxe$/.test(l))).toHaveLength(1);
            expect(added.filter((l) => / ltsp initrd$/.test(l))).toHaveLength(1);
            expect(added.some((l) => /ltsp image|debootstrap/.test(l))).toBe(false);
            expect(await labSsh("cat /srv/tftp/ltsp/ltsp.ipxe")).toContain(`:${BIOS_MAC}\nset hostname bios-client\nset img thin-b\n`);

            const [reassigned, unknown] = await Promise.all([
                pxeBootUntil(BIOS_MAC, { until: [show("b", "bios-client", "N"), LOGIN], timeoutSeconds: BOOT_SECONDS }),
                // No [MAC] section: the menu times out to boot.defaultEntry (thin-b, not the menu's first item); no MOSIX for it.
                pxeBootUntil(UNKNOWN_MAC, {
                    until: [`netboot-show: image=${DEFAULT_ENTRY} hostname=[^ ]+ MOSIX=unset`, LOGIN],
                    disk: "1G",
                    timeoutSeconds: BOOT_SECONDS,
                }),
            ]);
            expectBooted(reassigned, "BIOS client after reassignment");
            expectBooted(unknown, "unknown MAC (default entry)");
            expect(unknown.console).toContain("iPXE boot menu");
        },
        (BOOT_SECONDS + 300) * 1000,
    );

    it("rejects at preview: a duplicate MAC (naming both nodes), an unknown image, a bad MAC", async () => {
        try {
            await stack.setConfig("nodes[1].mac", "52:54:00:b0:00:01");
            let preview = await stack.preview({ allowFailure: true });
            expect(preview.code).not.toBe(0);
            // The stack names both places in its config (lib/site/siteNodes.ts), before any resource is made.
            expect(preview.output).toContain(
                'netboot:nodes[1] (uefi-client): mac "52:54:00:b0:00:01" is also the mac of netboot:nodes[0] (bios-client)',
            );
            await stack.setConfig("nodes[1].mac", "52:54:00:b0:00:02");
            await stack.setConfig("nodes[1].image", "thin-z");
            preview = await stack.preview({ allowFailure: true });
            expect(preview.output).toContain(
                'netboot:nodes[1].image: "thin-z" (node uefi-client) is not an image of this stack (known: thin-a, thin-b)',
            );
            await stack.setConfig("nodes[1].image", "thin-b");
            await stack.setConfig("nodes[1].mac", "52:54:00:b0:00:zz");
            preview = await stack.preview({ allowFailure: true });
            expect(preview.output).toContain('mac: "52:54:00:b0:00:zz" is not a MAC address');
        } finally {
            // The later tests start from the valid config, whatever failed here.
            await stack.setConfig("nodes[1].mac", "52:54:00:b0:00:02");
            await stack.setConfig("nodes[1].image", "thin-b");
        }
    });

    for (const kind of ["dnsmasq", "isc", "kea"] as const) {
        it(`a DHCP scope on ${kind} gives a client its reservation, next-server, boot file and root path`, async () => {
            await stack.setConfig("dhcp.mode", "none");
            await stack.pulumi(["config", "rm", "--path", "netboot:dhcp.rangeStart"], { allowFailure: true });
            await stack.pulumi(["config", "rm", "--path", "netboot:dhcp.rangeEnd"], { allowFailure: true });
            await stack.pulumi(["config", "rm", "--path", "netboot:dhcp.leaseTime"], { allowFailure: true });
            const scope: Record<string, string | number> = {
                kind,
                name: "lab",
                interface: env.NETBOOT_LAB_BRIDGE,
                subnet: env.NETBOOT_LAB_SUBNET,
                rangeStart: env.NETBOOT_LAB_DHCP_RANGE_START,
                rangeEnd: env.NETBOOT_LAB_DHCP_RANGE_END,
                router: env.NETBOOT_LAB_LAN_ROUTER,
                leaseSeconds: 3600,
                "boot.nextServer": env.NETBOOT_LAB_SERVER_LAN_ADDR,
                "boot.rootPath": "/srv/ltsp/thin-a",
            };
            await stack.pulumi([
                "config",
                "set-all",
                "--path",
                ...Object.entries(scope).flatMap(([k, v]) => ["--plaintext", `netboot:dhcpScopes[0].${k}=${v}`]),
            ]);
            await stack.up();
            const service = { dnsmasq: "dnsmasq", isc: "isc-dhcp-server", kea: "kea-dhcp4-server" }[kind];
            expect((await labSsh(`systemctl is-active ${service}`)).trim()).toBe("active");
            const reserved = await dhcpProbe(RESERVED_MAC, 0);
            expect(reserved.ip).toBe(lanAddress(env, 50));
            expect(reserved.siaddr).toBe(env.NETBOOT_LAB_SERVER_LAN_ADDR);
            expect(reserved.bootfile || reserved.boot_file).toBe("ltsp/undionly.kpxe");
            expect(reserved.rootpath).toBe("/srv/ltsp/thin-a");
            const uefi = await dhcpProbe("52:54:00:b0:00:99", 7);
            // On the lab LAN, in the scope's range (.100 to .199).
            const host = Number(uefi.ip.split(".").pop());
            expect(uefi.ip).toBe(lanAddress(env, host));
            expect(host).toBeGreaterThanOrEqual(100);
            expect(host).toBeLessThanOrEqual(199);
            expect(uefi.bootfile || uefi.boot_file).toBe("ltsp/snponly.efi");
        });
    }

    it("an unchanged stack with images, nodes and a DHCP scope previews with no changes", async () => {
        // --expect-no-changes makes the CLI fail if the preview shows any change at all.
        const preview = await stack.pulumi(["preview", "--diff", "--expect-no-changes"], { allowFailure: true });
        expect(preview.output).not.toContain("[unknown]");
        expect(preview.code, preview.output.slice(-3000)).toBe(0);
    });

    it("a one-node change previews as that node and its servers, with the changed lines of each generated file", async () => {
        await stack.setConfig("nodes[2].kernelParameters", "quiet splash");
        await stack.setConfig("nodes[2].ip", lanAddress(env, 51));
        const preview = await stack.preview();
        console.log(`one-node change preview:\n${preview.stdout}`);
        // Every resource step of the preview, whatever its operation (create, delete, replace, update), but "same".
        const steps = [...preview.stdout.matchAll(/^\s*(\S+) pulumi-nodejs:dynamic\/netboot:(\w+): \(([\w-]+)\)\s*$/gm)]
            .map((m) => `${m[1]} ${m[2]} (${m[3]})`)
            .sort();
        expect(steps).toEqual(["~ DhcpScope (update)", "~ LtspServer (update)", "~ NodeAssignment (update)"]);
        // And the CLI's own summary: three updates, nothing else.
        expect(preview.stdout).toMatch(/^Resources:\n\s+~ 3 to update\n\s+\d+ unchanged\n/m);
        expect(preview.stdout).not.toContain("[unknown]");
        // The changed lines of each generated file, never its context: the new ltsp.conf line and the menu's, the
        // new reservation in Kea's (Kea writes a reservation on one line: the whole line is removed and added again).
        expect(changedLines(preview.stdout, "/etc/ltsp/ltsp.conf")).toEqual(['+ KERNEL_PARAMETERS="quiet splash"']);
        expect(changedLines(preview.stdout, "/srv/tftp/ltsp/ltsp.ipxe")).toEqual(["+ set cmdline_client quiet splash"]);
        const keaReservation = (sign: string, host: number) =>
            new RegExp(`^${sign} \\{ "hw-address": "52:54:00:b0:00:03", "ip-address": "${lanAddress(env, host).replaceAll(".", "\\.")}"`);
        const kea = changedLines(preview.stdout, "/etc/kea/kea-dhcp4.conf");
        expect(kea).toHaveLength(2);
        expect(kea[0]).toMatch(keaReservation("-", 50));
        expect(kea[1]).toMatch(keaReservation("\\+", 51));
    });

    it("a preview that adds a node with a bad MAC while changing another fails, naming the field", async () => {
        await stack.pulumi([
            "config",
            "set-all",
            "--path",
            "--plaintext",
            "netboot:nodes[3].hostname=pc-new",
            "--plaintext",
            "netboot:nodes[3].mac=52:54:00:b0:00:zz",
            "--plaintext",
            "netboot:nodes[3].image=thin-a",
        ]);
        const preview = await stack.preview({ allowFailure: true });
        expect(preview.code).not.toBe(0);
        expect(preview.output).toContain('mac: "52:54:00:b0:00:zz" is not a MAC address');
        await stack.pulumi(["config", "rm", "--path", "netboot:nodes[3]"]);
        await stack.pulumi(["config", "rm", "--path", "netboot:nodes[2].kernelParameters"]);
        await stack.setConfig("nodes[2].ip", lanAddress(env, 50));
    });

    it("stack config: an unknown key, a typo in a node and a bad port each fail as one line naming the key", async () => {
        const cases: Array<[string, string, string]> = [
            ["nodez", "x", 'stack config: unknown key(s) netboot:nodez (a typo, or not a setting of site "lab")'],
            ["nodes[0].kernelParams", "quiet", 'stack config: netboot:nodes.0: unknown field(s) "kernelParams"'],
            ["server.port", "70000", "stack config: netboot:server.port: 70000 is not a TCP port (1-65535)"],
        ];
        for (const [key, value, message] of cases) {
            await stack.pulumi(["config", "set", "--path", `netboot:${key}`, value]);
            const preview = await stack.preview({ allowFailure: true });
            await stack.pulumi(["config", "rm", "--path", `netboot:${key}`]);
            expect(preview.code).not.toBe(0);
            expect(preview.output).toContain(message);
            expect(preview.output).not.toMatch(/\n\s+at .*\.ts:\d+/); // no stack trace
        }
        expect((await stack.pulumi(["preview", "--expect-no-changes"], { allowFailure: true })).code).toBe(0);
    });

    it("a changed image rebuilds and keeps the previous build; rollback serves the previous one", async () => {
        const first = (await stack.outputs()).images["thin-b"].sha256;
        await stack.pulumi(["config", "set", "--path", 'netboot:images[1].source.debootstrap.extraFiles["/etc/netboot-image"]', "b2"]);
        const rebuild = await stack.up();
        // Only a file changed: the base (debootstrap and apt) comes from the server's cache.
        expect(rebuild.output).toMatch(/ChrootImage thin-b: base of thin-b from the cache \([0-9a-f]{12}\)/);
        expect(rebuild.output).not.toMatch(/ChrootImage thin-b: debootstrap/);
        expect(rebuild.output).toMatch(/ChrootImage thin-b: ltsp image thin-b/);
        const second = (await stack.outputs()).images["thin-b"].sha256;
        expect(second).not.toBe(first);
        expect(await labSsh("ls /srv/ltsp/images/")).toContain("thin-b.img.old");
        await stack.pulumi(["config", "set", "--path", "netboot:images[1].rollback", "true"]);
        const before = await mutationCount();
        await stack.up();
        expect((await stack.outputs()).images["thin-b"].sha256).toBe(first);
        const added = (await labSsh("cat /var/log/netboot/mutations.log")).split("\n").filter(Boolean).slice(before);
        expect(added.some((l) => l.endsWith("roll back image thin-b"))).toBe(true);
        expect(added.some((l) => /ltsp image|debootstrap/.test(l))).toBe(false);
    });

    it("an image removed by hand shows in refresh, and the next up builds it again", async () => {
        await labSsh("rm -f /srv/ltsp/images/thin-a.img /srv/ltsp/images/thin-a.img.netboot");
        const refresh = await stack.refresh();
        expect(refresh.output).toMatch(/sha256\s*:\s*"[0-9a-f]{64}"\s*=>\s*"missing"/);
        const up = await stack.up();
        expect(up.output).toMatch(/ChrootImage thin-a: ltsp image thin-a/);
        expect((await stack.outputs()).images["thin-a"].sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it("destroy removes the images, exports and menu entries and puts the server back", async () => {
        await stack.destroy();
        expect(await labSsh("ls /srv/ltsp/images/ /srv/tftp/ltsp/ 2>/dev/null | grep -c thin || true")).toBe("0\n");
        expect(await labSsh("grep -c thin- /etc/nbd-server/config 2>/dev/null || true")).toBe("0\n");
        expect(await labSsh("ls -d /srv/ltsp/thin-a 2>/dev/null || echo gone")).toBe("gone\n");
    });
});
