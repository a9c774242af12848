/**
 * The small test image of the boot tests: a debootstrap image whose marker file names it, with an
 * LTSP applet and a unit that print `netboot-show: image=MARKER hostname=... MOSIX=...` on the
 * serial console once the image's own userspace runs.
 */
/**
 * An LTSP client applet (LTSP runs `NAME_cmdline`, which runs the `*_main` of the applet's
 * scripts, after evaluating /etc/ltsp/ltsp.conf for this client's [MAC] section): it prints
 * what this client was given. The `ltsp` entry point and its applet layout are read from
 * ltsp 23.02 (/usr/share/ltsp/ltsp, common/ltsp/55-ltsp.sh).
 */
const SHOW_APPLET = `# netboot test images: print what this client was given
netbootshow_cmdline() {
    run_main_functions "$_SCRIPTS" "$@"
}

netbootshow_main() {
    printf 'netboot-show: image=%s hostname=%s MOSIX=%s\\n' "$(cat /etc/netboot-image)" "$(hostname)" "\${MOSIX:-unset}"
}
`;

const SHOW_UNIT = `[Unit]
Description=netboot test: print the image marker, host name and ltsp.conf MOSIX on the console
After=ltsp.service
Before=getty.target serial-getty@ttyS0.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/ltsp netbootshow
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
`;

export function image(marker: string) {
    return {
        name: `thin-${marker}`,
        // lz4 squashes several times faster than zstd's level mksquashfs uses, which counts on two
        // shared cores; the image is a bit larger, which the emulated LAN does not mind.
        compression: "lz4",
        source: {
            debootstrap: {
                architecture: "amd64",
                initramfsModules: "netboot",
                extraFiles: {
                    "/etc/netboot-image": `thin-${marker}\n`,
                    "/usr/share/ltsp/client/netbootshow/55-netbootshow.sh": SHOW_APPLET,
                    "/etc/systemd/system/netboot-show.service": SHOW_UNIT,
                },
                postInstall: ["systemctl enable netboot-show.service"],
            },
        },
    };
}

/** The console lines a boot report needs: login prompt, the show line, the root path, the kernel command line. */
function bootEvidence(console: string): string[] {
    return console
        .split("\n")
        .filter((l) => /login:|netboot-show:|netboot: root path|Command line:|Connected \/dev\/nbd0|http:\/\/.*vmlinuz/.test(l))
        .map((l) => l.trim());
}

/** Prints how far a client got and its evidence lines; throws with the console's end if it fell short. */
export function expectBooted(result: { ok: boolean; console: string; seconds: number }, label: string): void {
    console.log(
        `${label}: ${result.ok ? "reached" : "did NOT reach"} the login prompt in ${result.seconds.toFixed(0)} s\n  ${bootEvidence(result.console).join("\n  ")}`,
    );
    if (!result.ok) throw new Error(`${label}: console did not show everything it waited for:\n${result.console.slice(-4000)}`);
}
