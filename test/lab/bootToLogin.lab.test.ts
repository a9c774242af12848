// biome-ignore-all lint/suspicious/noTemplateCurlyInString: iPXE scripts name their settings ${like_this}; these strings are iPXE, not templates
import { beforeAll, describe, expect, it } from "vitest";
import { labSsh, labStackConfig, labUp, mutationCount, pxeBootUntil, TestStack } from "./harness";
import { image } from "./showImage";

/**
 * Diskless clients boot to a login prompt: the LtspServer serves each image as a read-only NBD
 * export (this kernel has no NFS), iPXE fetches kernel and initrds over HTTP from lighttpd, and
 * the menu is ours (templates/ltsp.ipxe.hbs). Each test image carries a unit that prints, on the
 * serial console, the image's marker, the running host name and the per-client ltsp.conf value
 * MOSIX as LTSP itself evaluates ltsp.conf on the client (through an `ltsp` applet of its own).
 *
 * Addresses come from `netboot-lab env` (NETBOOT_LAB_ID picks the lab instance). Boots run in
 * pairs (two cores): about 90 s for BIOS and 110 s for UEFI under TCG (lab.md).
 */
const BIOS_MAC = "52:54:00:b1:00:01";
const UEFI_MAC = "52:54:00:b1:00:02";
const UNKNOWN_MAC = "52:54:00:b1:00:99";

const NODES = [
    {
        hostname: "bios-client",
        mac: BIOS_MAC,
        image: "thin-a",
        kernelParameters: "console=ttyS0",
        menuTimeout: -1,
        ltspConf: { MOSIX: "N" },
        role: "thin-client",
    },
    {
        hostname: "uefi-client",
        mac: UEFI_MAC,
        image: "thin-b",
        kernelParameters: "console=ttyS0",
        menuTimeout: -1,
        ltspConf: { MOSIX: "Y" },
        role: "thin-client",
    },
];

const LOGIN = "login:";
const show = (marker: string, hostname: string, mosix: string) => `netboot-show: image=thin-${marker} hostname=${hostname} MOSIX=${mosix}`;

/** The console lines a report needs: login prompt, the show line, the kernel command line. */
function evidence(console: string): string[] {
    return console
        .split("\n")
        .filter((l) => /login:|netboot-show:|Command line:|Connected \/dev\/nbd0|http:\/\/.*vmlinuz/.test(l))
        .map((l) => l.trim());
}

function expectBooted(result: { ok: boolean; console: string; seconds: number }, label: string): void {
    console.log(
        `${label}: ${result.ok ? "reached" : "did NOT reach"} the login prompt in ${result.seconds.toFixed(0)} s\n  ${evidence(result.console).join("\n  ")}`,
    );
    if (!result.ok) throw new Error(`${label}: console did not show everything it waited for:\n${result.console.slice(-4000)}`);
}

describe("diskless clients boot their own image to a login prompt over NBD, kernels over HTTP", () => {
    let stack: TestStack;
    let env: Record<string, string>;

    beforeAll(async () => {
        env = await labUp(true);
        stack = await TestStack.create(
            "login",
            labStackConfig(env, {
                images: [image("a"), image("b")],
                nodes: NODES,
                // Unknown MACs see the menu for 3 s, then boot the site's default entry.
                ltspConf: { server: { menuTimeout: 3000, kernelParameters: "console=ttyS0" } },
                boot: { rootTransport: "nbd", http: true, defaultEntry: "thin-a" },
            }),
        );
    });

    it(
        "builds both images and serves each as a read-only NBD export, the menu ours, kernels over HTTP",
        async () => {
            await stack.up();
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
            // Two images from scratch: debootstrap, apt and mksquashfs on two cores that other runs share.
        },
        45 * 60_000,
    );

    it("a BIOS client and a UEFI client, booted side by side, each reach login on their own image, host name and ltsp.conf value", async () => {
        const [bios, uefi] = await Promise.all([
            pxeBootUntil(BIOS_MAC, { until: [show("a", "bios-client", "N"), LOGIN] }),
            pxeBootUntil(UEFI_MAC, { uefi: true, until: [show("b", "uefi-client", "Y"), LOGIN] }),
        ]);
        expectBooted(bios, "BIOS client (SeaBIOS + iPXE ROM)");
        expectBooted(uefi, "UEFI client (OVMF PXE -> snponly.efi)");
        expect(bios.console).toMatch(/bios-client login:/);
        expect(uefi.console).toMatch(/uefi-client login:/);
        expect(uefi.console).toContain("NBP filename is ltsp/snponly.efi");
        for (const c of [bios.console, uefi.console]) expect(c).toMatch(/Command line:.* root=\/dev\/nbd0 nbdroot=[0-9.]+,thin-[ab],nbd0/);
    });

    it("nothing changed: the next up changes nothing on the server", async () => {
        const before = await mutationCount();
        await stack.up();
        expect(await stack.lastChanges()).toEqual({ same: 6 }); // the stack, 2 images, 2 nodes, the server
        expect(await mutationCount()).toBe(before);
    });

    it("a hand edit of the menu shows in refresh and the next up puts ours back", async () => {
        await labSsh("sed -i 's/^set menu-timeout -1$/set menu-timeout 0/' /srv/tftp/ltsp/ltsp.ipxe");
        const refresh = await stack.refresh();
        expect(refresh.output).toContain("/srv/tftp/ltsp/ltsp.ipxe");
        const up = await stack.up();
        expect(up.output).toContain("write /srv/tftp/ltsp/ltsp.ipxe");
        expect(await labSsh("grep -c '^set menu-timeout 0$' /srv/tftp/ltsp/ltsp.ipxe || true")).toBe("0\n");
    });

    it("reassigning the BIOS client's MAC: preview shows the menu diff, up updates only node and server, the client boots the other image; an unknown MAC boots the default", async () => {
        const log = () => labSsh("cat /var/log/netboot/mutations.log");
        const before = (await log()).split("\n").filter(Boolean).length;
        await stack.setConfig("nodes[0].image", "thin-b");
        const preview = await stack.preview();
        expect(preview.output).toMatch(/~\s+pulumi-nodejs:dynamic\/netboot:NodeAssignment: \(update\)/);
        // The rendered menu is an input of the server: its diff is in the preview.
        expect(preview.output).toMatch(/set img thin-a[\s\S]*set img thin-b/);
        await stack.up();
        expect(await stack.lastChanges()).toEqual({ same: 4, update: 2 });
        const added = (await log()).split("\n").filter(Boolean).slice(before);
        expect(added.some((l) => /ltsp image|debootstrap/.test(l))).toBe(false);
        expect(await labSsh("cat /srv/tftp/ltsp/ltsp.ipxe")).toContain(`:${BIOS_MAC}\nset hostname bios-client\nset img thin-b\n`);

        const [reassigned, unknown] = await Promise.all([
            pxeBootUntil(BIOS_MAC, { until: [show("b", "bios-client", "N"), LOGIN] }),
            // No [MAC] section: the menu times out to boot.defaultEntry (thin-a); no MOSIX for it.
            pxeBootUntil(UNKNOWN_MAC, { until: ["netboot-show: image=thin-a hostname=[^ ]+ MOSIX=unset", LOGIN], disk: "1G" }),
        ]);
        expectBooted(reassigned, "BIOS client after reassignment");
        expectBooted(unknown, "unknown MAC (default entry)");
        expect(unknown.console).toContain("iPXE boot menu");
    });

    it("destroy removes the images, exports and menu and puts the server back", async () => {
        await stack.destroy();
        expect(await labSsh("ls /srv/ltsp/images/ 2>/dev/null | grep -c thin || true")).toBe("0\n");
        expect(await labSsh("grep -c thin- /etc/nbd-server/config 2>/dev/null || true")).toBe("0\n");
    });
});
