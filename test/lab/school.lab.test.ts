import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labPower, labSsh, labUp, labWriteFile, listeners, pxeBootUntil, run, serialLoginLtspConf, TestStack } from "./harness";

/**
 * The school site on the lab (issue 8): the LTSP server and two application servers (lab hosts
 * h1, h2), 17 thin clients in config, sticky balancing. Two QEMU thin clients boot side by side;
 * the image logs root in on the serial console and that login runs the chooser, which opens an
 * `ssh -X` session on the server the client's ltsp.conf section names (BALANCE_PREFER, first).
 * Each session is seen on that server itself (`who`, `loginctl`, through the lab's own SSH),
 * coming from that client's address. Then h2 is powered off: the h2 client's session ends, its
 * console logs in again, and the chooser skips the silent h2 and opens the session on h1.
 * Adding a third server: the preview updates exactly the clients that then move, nobody else;
 * bad balance values fail the preview naming their config key.
 */
const PASSWORDS = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`pupil${String(i + 1).padStart(2, "0")}`, `lab-pupil-${i + 1}`]));
const MACS = Array.from({ length: 17 }, (_, i) => `52:54:00:5c:00:${(i + 1).toString(16).padStart(2, "0")}`);

/** Seconds a session stays open: long enough for the test to see it on its server. */
const SESSION_SECONDS = 45;

function schoolConfig(env: Record<string, string>, kioskPublicKey: string, extra: { servers?: number; balance?: Record<string, unknown> } = {}) {
    const lanPrefix = env.NETBOOT_LAB_SERVER_LAN_ADDR.split(".").slice(0, 3).join(".");
    const connection = (host: string) => ({
        host,
        user: env.NETBOOT_LAB_USER,
        privateKeyFile: env.NETBOOT_LAB_KEY,
        knownHostsFile: env.NETBOOT_LAB_KNOWN_HOSTS,
    });
    const appServers = [1, 2].map((k) => ({
        name: `app${k}`,
        address: env[`NETBOOT_LAB_H${k}_LAN_ADDR`],
        cores: 2,
        server: connection(env[`NETBOOT_LAB_H${k}_ADDR`]),
    }));
    // A third server in config only (preview): its address on the LAN is free, its SSH host is h1's (never contacted by a preview).
    if ((extra.servers ?? 2) > 2)
        appServers.push({ name: "app3", address: `${lanPrefix}.13`, cores: 2, server: connection(env.NETBOOT_LAB_H1_ADDR) });
    return {
        site: "school",
        server: connection(env.NETBOOT_LAB_HOST),
        aptProxy: env.NETBOOT_LAB_APT_PROXY,
        lan: { interface: env.NETBOOT_LAB_BRIDGE, address: `${env.NETBOOT_LAB_SERVER_LAN_ADDR}/${env.NETBOOT_LAB_LAN_PREFIX}` },
        dhcp: { mode: "full", rangeStart: env.NETBOOT_LAB_DHCP_RANGE_START, rangeEnd: env.NETBOOT_LAB_DHCP_RANGE_END, leaseTime: "1h" },
        boot: { rootTransport: "nbd", http: true },
        ltspConf: serialLoginLtspConf(-1),
        image: {
            name: "thin",
            compression: "lz4",
            debootstrap: {
                architecture: "amd64",
                initramfsModules: "netboot",
                // The kiosk's key, made on the LTSP server (never in config or state), copied 0600 root; not
                // under /root, which `ltsp image` leaves out of the image (image.excludes: root/*, root/.*).
                serverFiles: { "/etc/boot-iac/kiosk-key": "/root/school-kiosk-key" },
            },
        },
        session: {
            // Test session: who and where, then it stays open SESSION_SECONDS; keep-alives end it soon after its server stops.
            command: [
                "ssh",
                "-X",
                "-tt",
                "-i",
                "/etc/boot-iac/kiosk-key",
                "-o",
                "BatchMode=yes",
                // The image's pinned keys only (/etc/ssh/ssh_known_hosts, made from the servers' hostKeys).
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "ServerAliveInterval=2",
                "-o",
                "ServerAliveCountMax=2",
                "pupil01@{server}",
                `echo netboot-session: $(id -un)@$(hostname); sleep ${SESSION_SECONDS}; echo netboot-session: end`,
            ],
            autologin: { user: "root", console: "ttyS0" },
        },
        appServers,
        users: Object.keys(PASSWORDS).map((name, i) => ({
            name,
            uid: 2001 + i,
            ...(name === "pupil01" ? { authorizedKeys: [kioskPublicKey] } : {}),
        })),
        balance: { policy: "sticky", bound: 1.1, ...(extra.balance ?? {}) },
        nodes: MACS.map((mac, i) => ({ hostname: `tc${String(i + 1).padStart(2, "0")}`, mac, ip: `${lanPrefix}.${21 + i}`, role: "thin-client" })),
    };
}

/** [MAC] -> the first address of its BALANCE_PREFER, from the ltsp.conf the server has. */
function preferredServers(ltspConf: string): Record<string, string> {
    const out: Record<string, string> = {};
    let section = "";
    for (const line of ltspConf.split("\n")) {
        const header = /^\[([^\]]+)\]$/.exec(line.trim());
        if (header) section = header[1].toLowerCase();
        const prefer = /^BALANCE_PREFER="([^"]*)"$/.exec(line.trim());
        if (prefer) out[section] = prefer[1].split(" ")[0];
    }
    return out;
}

/** [MAC] -> the lines of its section, as the server's ltsp.conf has them. */
function clientSections(ltspConf: string): Record<string, string> {
    const out: Record<string, string> = {};
    let section = "";
    for (const line of ltspConf.split("\n")) {
        const header = /^\[([^\]]+)\]$/.exec(line.trim());
        if (header) section = header[1].toLowerCase();
        else if (section && line.trim()) out[section] = `${out[section] ?? ""}${line.trim()}\n`;
    }
    return out;
}

/** Polls `command` on `host` until `match` shows in its output; returns that output. */
async function waitOn(host: string, command: string, match: RegExp, seconds: number): Promise<string> {
    const deadline = Date.now() + seconds * 1000;
    let last = "";
    while (Date.now() < deadline) {
        last = await labSsh(command, host).catch((err: Error) => err.message);
        if (match.test(last)) return last;
        await new Promise((r) => setTimeout(r, 2000));
    }
    throw new Error(`${host}: ${match} not seen within ${seconds} s; last output:\n${last}`);
}

describe("the school site: thin clients' sessions balanced across two application servers", () => {
    let env: Record<string, string>;
    let stack: TestStack;
    let kioskPublicKey: string;
    let lanPrefix: string;

    beforeAll(async () => {
        env = await labUp(true, { hosts: 2 });
        lanPrefix = env.NETBOOT_LAB_SERVER_LAN_ADDR.split(".").slice(0, 3).join(".");
        const dir = mkdtempSync(join(tmpdir(), "school-kiosk-"));
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "school-kiosk", "-f", join(dir, "key")]);
        kioskPublicKey = readFileSync(join(dir, "key.pub"), "utf8").trim();
        await labWriteFile("/root/school-kiosk-key", readFileSync(join(dir, "key"), "utf8"));
        stack = await TestStack.create("school", schoolConfig(env, kioskPublicKey));
        await stack.pulumi(["config", "set", "--secret", "netboot:userPasswords", JSON.stringify(PASSWORDS)]);
    }, 10 * 60_000);

    afterAll(async () => {
        await labPower("start", "h2").catch(() => undefined);
    });

    it(
        "up: the LTSP server, the image with the chooser, two app servers with sshd, the pupils and ldminfod",
        async () => {
            const up = await stack.up();
            expect(up.output).not.toContain("lab-pupil-"); // no password in the CLI's output
            expect(await stack.exportState()).not.toContain("lab-pupil-"); // nor in the state: hashes, encrypted
            for (const host of ["h1", "h2"]) {
                expect(await labSsh("systemctl is-active ssh ldminfod.socket", host)).toBe("active\nactive\n");
                // The password is set as a SHA-512 crypt hash, and it is the pupil's (checked by the host's own crypt).
                const shadow = await labSsh("getent shadow pupil01 | cut -d: -f2", host);
                expect(shadow).toMatch(/^\$6\$/);
                const check = await labSsh(
                    // perl-base is essential in Debian (the lab hosts have no python): its crypt() is the C library's.
                    `perl -e 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "True\\n" : "False\\n"' '${PASSWORDS.pupil01}' '${shadow.trim()}'`,
                    host,
                );
                expect(check).toBe("True\n");
                expect(await labSsh("stat -c '%U %a' /home/pupil17 && sshd -T | grep -i '^x11forwarding'", host)).toBe(
                    "pupil17 750\nx11forwarding yes\n",
                );
            }
            // ldminfod answers over the LAN, from the LTSP server (bash's /dev/tcp: the lab server has no nc).
            const answer = await labSsh(`exec 3<>/dev/tcp/${env.NETBOOT_LAB_H1_LAN_ADDR}/9571; cat <&3`);
            expect(answer).toMatch(/^rating: \d+\ncores: \d+\n/);
            expect(answer).toContain("sessions: 0\n");
            console.log(`ldminfod on h1 (asked from the LTSP server):\n${answer}`);
            // The first up builds the image (debootstrap, kernel, initramfs, squashfs): beyond the lab default of 15 min on a
            // machine shared with other lab groups (seen: 15 min reached while update-initramfs ran), as render's allows.
        },
        40 * 60_000,
    );

    it("every service listens only where its clients are: the LAN (issue 17); passwords only from the LAN", async () => {
        const quoted = (address: string) => address.replace(/\./g, "\\.");
        const lan = env.NETBOOT_LAB_SERVER_LAN_ADDR;
        // The LTSP server: nbd-server (10809) and lighttpd (80) on its LAN address only.
        for (const [port, process] of [
            [10809, "nbd-server"],
            [80, "lighttpd"],
        ] as const) {
            const lines = await listeners(port);
            console.log(`server: ss -ltnp 'sport = :${port}':\n  ${lines.join("\n  ")}`);
            expect(lines.length).toBeGreaterThan(0);
            for (const line of lines) expect(line).toMatch(new RegExp(`^${quoted(lan)}:${port} users:\\(\\("${process}"`));
        }
        expect(await labSsh("cat /etc/nbd-server/allow | grep -v '^#'")).toBe(`${lanPrefix}.0/${env.NETBOOT_LAB_LAN_PREFIX}\n`);
        // From the management side (this machine, through the veth), nothing answers on the server's port 80.
        expect(
            await fetch(`http://${env.NETBOOT_LAB_HOST}/`).then(
                () => "answered",
                () => "refused",
            ),
        ).toBe("refused");

        for (const k of [1, 2]) {
            const host = `h${k}`;
            const hostLan = env[`NETBOOT_LAB_H${k}_LAN_ADDR`];
            const hostSsh = env[`NETBOOT_LAB_H${k}_ADDR`];
            // ldminfod: systemd holds the socket, on the LAN address only.
            const lines = await listeners(9571, host);
            console.log(`${host}: ss -ltnp 'sport = :9571':\n  ${lines.join("\n  ")}`);
            expect(lines).toHaveLength(1);
            expect(lines[0]).toMatch(new RegExp(`^${quoted(hostLan)}:9571 users:\\(\\("systemd"`));
            // sshd's effective settings for a login from a thin client's address and from this machine's (the SSH side).
            const effective = (addr: string) =>
                labSsh(
                    `sshd -T -C user=pupil01,host=client,addr=${addr} | grep -E '^(passwordauthentication|kbdinteractiveauthentication) ' | sort`,
                    host,
                );
            expect(await effective(`${lanPrefix}.21`)).toBe("kbdinteractiveauthentication no\npasswordauthentication yes\n");
            expect(await effective(env.NETBOOT_LAB_HOST_ADDR ?? env.NETBOOT_LAB_HOST)).toBe(
                "kbdinteractiveauthentication no\npasswordauthentication no\n",
            );
            // And what a client sees: over the LAN (from the LTSP server) sshd offers a password; from this machine, keys only.
            const probe =
                "-o BatchMode=yes -o PubkeyAuthentication=no -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10";
            const fromLan = await labSsh(`ssh ${probe} pupil01@${hostLan} true 2>&1 | grep -o 'Permission denied ([a-z,-]*)' || true`);
            const fromOutside = await run("sh", ["-c", `ssh ${probe} pupil01@${hostSsh} true 2>&1 | grep -o 'Permission denied ([a-z,-]*)' || true`]);
            console.log(
                `${host}: ssh pupil01@${hostLan} from the LAN: ${fromLan.trim()}; pupil01@${hostSsh} from this machine: ${fromOutside.output.trim()}`,
            );
            expect(fromLan).toBe("Permission denied (publickey,password)\n");
            expect(fromOutside.output.trim()).toBe("Permission denied (publickey)");
        }
    });

    it("the image pins each application server's host keys; a server with another key is refused before any login", async () => {
        const image = "/srv/ltsp/images/thin.img";
        const pinned = await labSsh(`unsquashfs -cat ${image} etc/ssh/ssh_known_hosts | grep -v '^#'`);
        const expected: string[] = [];
        for (const k of [1, 2]) {
            const keys = await labSsh("for f in /etc/ssh/ssh_host_*_key.pub; do cut -d' ' -f1,2 \"$f\"; done | LC_ALL=C sort", `h${k}`);
            for (const key of keys.trim().split("\n")) expected.push(`${env[`NETBOOT_LAB_H${k}_LAN_ADDR`]} ${key}`);
        }
        console.log(`ssh_known_hosts in the image:\n${pinned}`);
        expect(pinned.trim().split("\n")).toEqual(expected);
        expect(await labSsh(`unsquashfs -cat ${image} etc/ssh/ssh_config.d/netboot-pin.conf | grep -v '^#'`)).toContain("StrictHostKeyChecking yes");

        // ssh as the image runs it, from the LTSP server on the LAN, with the image's file: h1 is h1 (its sshd asks
        // for a password); with h2's keys written under h1's address (a spoofed h1), ssh refuses before authenticating.
        const pin = "/run/netboot-test-known_hosts";
        await labSsh(`unsquashfs -cat ${image} etc/ssh/ssh_known_hosts > ${pin}`);
        const h1 = env.NETBOOT_LAB_H1_LAN_ADDR;
        const login = (file: string) =>
            labSsh(
                `ssh -o BatchMode=yes -o PubkeyAuthentication=no -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=${file} -o UserKnownHostsFile=/dev/null pupil01@${h1} true 2>&1 | grep -oE 'Permission denied \\([a-z,-]*\\)|Host key verification failed' || true`,
            );
        const genuine = await login(pin);
        await labSsh(`grep '^${env.NETBOOT_LAB_H2_LAN_ADDR} ' ${pin} | sed 's/^[^ ]*/${h1}/' > ${pin}.spoofed`);
        const spoofed = await login(`${pin}.spoofed`);
        console.log(`ssh pupil01@${h1} with the image's keys: ${genuine.trim()}; with h2's keys as h1's: ${spoofed.trim()}`);
        expect(genuine).toBe("Permission denied (publickey,password)\n");
        expect(spoofed).toBe("Host key verification failed\n");
        await labSsh(`rm -f ${pin} ${pin}.spoofed`);
    });

    it(
        "two clients boot side by side; each session opens on the server its ltsp.conf section names; with h2 off, the chooser skips it",
        async () => {
            const prefer = preferredServers(await labSsh("cat /etc/ltsp/ltsp.conf"));
            const h1Lan = env.NETBOOT_LAB_H1_LAN_ADDR;
            const h2Lan = env.NETBOOT_LAB_H2_LAN_ADDR;
            const onH1 = MACS.find((m) => prefer[m] === h1Lan)!;
            const onH2 = MACS.find((m) => prefer[m] === h2Lan)!;
            expect(onH1 && onH2).toBeTruthy();
            const ipOf = (mac: string) => `${lanPrefix}.${21 + MACS.indexOf(mac)}`;
            const [h1Name, h2Name] = [(await labSsh("hostname", "h1")).trim(), (await labSsh("hostname", "h2")).trim()];

            // Who is logged in, from where: `who` (utmp) and logind's sessions, on the server itself.
            const sessionsOn = (ip: string) =>
                `who; loginctl list-sessions --no-legend; echo; loginctl show-session $(loginctl list-sessions --no-legend | awk '{print $1}') -p Name -p RemoteHost 2>/dev/null | grep -B1 -x 'RemoteHost=${ip}' || true`;
            // Bounds: a session opens about 130 s after QEMU starts alone; beside the other lab group's boots, minutes more.
            const bootH1 = pxeBootUntil(onH1, { until: [`netboot-session: pupil01@${h1Name}`, "netboot-session: end"], timeoutSeconds: 900 });
            const bootH2 = pxeBootUntil(onH2, {
                until: [`netboot-session: pupil01@${h2Name}`, `netboot-session: pupil01@${h1Name}`],
                timeoutSeconds: 900,
            });

            const seenH1 = await waitOn("h1", sessionsOn(ipOf(onH1)), new RegExp(`pupil01 .*\\(${ipOf(onH1).replace(/\./g, "\\.")}\\)`), 840);
            const seenH2 = await waitOn("h2", sessionsOn(ipOf(onH2)), new RegExp(`pupil01 .*\\(${ipOf(onH2).replace(/\./g, "\\.")}\\)`), 840);
            console.log(`client ${onH1} (${ipOf(onH1)}), BALANCE_PREFER first ${h1Lan}: on h1 (${h1Name}):\n${seenH1}`);
            console.log(`client ${onH2} (${ipOf(onH2)}), BALANCE_PREFER first ${h2Lan}: on h2 (${h2Name}):\n${seenH2}`);
            expect(seenH1).toContain(`RemoteHost=${ipOf(onH1)}`);
            expect(seenH2).toContain(`RemoteHost=${ipOf(onH2)}`);
            // And not on the other server.
            expect(await labSsh("who", "h2")).not.toContain(`(${ipOf(onH1)})`);
            expect(await labSsh("who", "h1")).not.toContain(`(${ipOf(onH2)})`);

            // h2 goes off: its client's session ends, the console logs in again, the chooser skips h2.
            await labPower("stop", "h2");
            const fallback = await waitOn("h1", sessionsOn(ipOf(onH2)), new RegExp(`pupil01 .*\\(${ipOf(onH2).replace(/\./g, "\\.")}\\)`), 480);
            console.log(`client ${onH2} after h2 stopped: on h1 (${h1Name}):\n${fallback}`);

            const [c1, c2] = await Promise.all([bootH1, bootH2]);
            const lines = (c: string) =>
                c
                    .split("\n")
                    .filter((l) => /netboot-session:|^\s*10\.\d+\.\d+\.\d+\s*$|chooser:/.test(l))
                    .map((l) => l.trim());
            console.log(`console of ${onH1} (${c1.seconds.toFixed(0)} s):\n  ${lines(c1.console).join("\n  ")}`);
            console.log(`console of ${onH2} (${c2.seconds.toFixed(0)} s):\n  ${lines(c2.console).join("\n  ")}`);
            expect(c1.ok).toBe(true);
            expect(c2.ok).toBe(true);
            // On the h2 client's console, the session on h2 came first, then the one on h1.
            expect(c2.console.indexOf(`pupil01@${h2Name}`)).toBeLessThan(c2.console.indexOf(`pupil01@${h1Name}`));
            await labPower("start", "h2");
        },
        30 * 60_000,
    );

    it("adding a server: the preview updates exactly the clients that move, and up moves those and no others", async () => {
        const confBefore = await labSsh("cat /etc/ltsp/ltsp.conf");
        const before = preferredServers(confBefore);
        stack.writeConfig(schoolConfig(env, kioskPublicKey, { servers: 3 }));
        await stack.pulumi(["config", "set", "--secret", "netboot:userPasswords", JSON.stringify(PASSWORDS)]);
        const preview = await stack.preview();
        const updated = [
            ...preview.output.matchAll(
                /~\s+pulumi-nodejs:dynamic\/netboot:NodeAssignment: \(update\)\s+(?:\[id=[^\]]*\]\s+)?\[urn=[^\]]*?NodeAssignment::(tc\d+)\]/g,
            ),
        ].map((m) => m[1]);
        if (!updated.length)
            console.log(
                preview.output
                    .split("\n")
                    .filter((l) => /NodeAssignment|BALANCE_PREFER/.test(l))
                    .slice(0, 40)
                    .join("\n"),
            );
        const listed = /balance: (\d+) client\(s\) move: ([^\n]*)/.exec(preview.output);
        console.log(`preview: NodeAssignments updated: ${updated.join(" ")}\n${listed?.[0]}`);
        expect(updated.length).toBeGreaterThan(0);
        // The balance's line, "MAC app1 -> app3, ...": each moving client by name, with where from and where to.
        const listedMoves = (listed?.[2] ?? "")
            .trim()
            .split(", ")
            .map((move) => {
                const [mac, from, arrow, to] = move.trim().split(" ");
                expect(arrow).toBe("->");
                return { mac: mac.toLowerCase(), from, to };
            });

        // Apply the balance, the clients and the LTSP server that writes their sections into ltsp.conf (not app3's
        // AppServer: its host is not a real server). What moves is read back from the LTSP server's ltsp.conf.
        const targets = [
            "SessionBalance::balance",
            "LtspServer::ltsp-server",
            ...MACS.map((_, i) => `NodeAssignment::tc${String(i + 1).padStart(2, "0")}`),
        ];
        const project = `urn:pulumi:${stack.name}::netboot::pulumi-nodejs:dynamic/netboot:`;
        await stack.pulumi(["up", "--yes", "--skip-preview", ...targets.flatMap((t) => ["--target", project + t])]);
        // The balance's stored plan (its outputs in the state; a targeted up does not rewrite the stack's outputs).
        const state = JSON.parse(await stack.exportState());
        const balance = state.deployment.resources.find((r: { type: string }) => r.type === "pulumi-nodejs:dynamic/netboot:SessionBalance");
        const plan = balance.outputs.plan.assignment as Record<string, string>;
        const address: Record<string, string> = { app1: env.NETBOOT_LAB_H1_LAN_ADDR, app2: env.NETBOOT_LAB_H2_LAN_ADDR, app3: `${lanPrefix}.13` };
        const confAfter = await labSsh("cat /etc/ltsp/ltsp.conf");
        const after = preferredServers(confAfter);
        const hostname = (mac: string) => `tc${String(MACS.indexOf(mac) + 1).padStart(2, "0")}`;
        const movedMacs = MACS.filter((mac) => after[mac] !== before[mac]);
        const moved = movedMacs.map(hostname);
        // Mostly to app3; a server left over its (now smaller) bound also hands its lowest-scoring clients on (sticky.ts).
        console.log(`up: moved (the host's ltsp.conf) ${movedMacs.map((mac) => `${hostname(mac)} ${before[mac]} -> ${after[mac]}`).join(", ")}`);
        // The host's ltsp.conf names, for every client, the server the stored plan gives it.
        expect(Object.fromEntries(MACS.map((mac) => [mac, after[mac]]))).toEqual(Object.fromEntries(MACS.map((mac) => [mac, address[plan[mac]]])));
        // The preview's updated clients are exactly those whose server changed on the host, and the balance's line names
        // exactly those, each from its old server to its new one.
        expect(updated.sort()).toEqual([...moved].sort());
        expect(Number(listed?.[1])).toBe(listedMoves.length);
        expect(listedMoves.map((m) => m.mac).sort()).toEqual([...movedMacs].sort());
        for (const m of listedMoves) {
            expect(address[m.from]).toBe(before[m.mac]);
            expect(address[m.to]).toBe(after[m.mac]);
        }
        // Nobody else's section changed on the host.
        const [sectionsBefore, sectionsAfter] = [clientSections(confBefore), clientSections(confAfter)];
        for (const mac of MACS.filter((m) => !movedMacs.includes(m))) expect(sectionsAfter[mac]).toBe(sectionsBefore[mac]);
    });

    it("bad balance values fail the preview, each naming its config key", async () => {
        const cases: Array<[Record<string, unknown>, string]> = [
            [{ policy: "round-robin" }, 'netboot:balance.policy: "round-robin" is not one of'],
            [{ policy: "fixed", fixed: { [MACS[0]]: "app9" } }, `netboot:balance.fixed.${MACS[0]}: "app9" is not a server of this site`],
            [{ bound: 1.0 }, "netboot:balance.bound: 1 lets the 2 servers hold only 16 of the 17 clients"],
        ];
        for (const [balance, message] of cases) {
            stack.writeConfig(schoolConfig(env, kioskPublicKey, { balance }));
            await stack.pulumi(["config", "set", "--secret", "netboot:userPasswords", JSON.stringify(PASSWORDS)]);
            const preview = await stack.preview({ allowFailure: true });
            expect(preview.code).not.toBe(0);
            expect(preview.output).toContain(message);
        }
        const weight = schoolConfig(env, kioskPublicKey);
        (weight.appServers[1] as Record<string, unknown>).weight = 0;
        stack.writeConfig(weight);
        const preview = await stack.preview({ allowFailure: true });
        expect(preview.output).toContain("netboot:appServers[1].weight: 0 must be more than 0");
    });
});
