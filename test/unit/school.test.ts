import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
    appServerPackages,
    LDMINFOD_SOCKET,
    type ObservedUser,
    parseHostAccounts,
    parseObservedUsers,
    planAppServer,
    renderAppServerFiles,
    SERVICES,
    SSHD_DROPIN,
} from "../../lib/appserver/plan";
import { sha512Crypt, sha512CryptMatches } from "../../lib/appserver/shaCrypt";
import { type AppServerSpec, validateAppServer } from "../../lib/appserver/spec";
import { LDMINFOD_SCRIPT } from "../../lib/balance/units";
import { sha256Hex } from "../../lib/core/sha256";
import { SSH_SERVICE, SSHD_CHECK } from "../../lib/core/sshd";
import type { HostObservation } from "../../lib/host/observe";
import { clientImageFiles, schoolBalanceFailures } from "../../lib/school/site";
import { appServerProvider, hashPasswords } from "../../resources/appServer";
import { sessionBalanceProvider } from "../../resources/sessionBalance";
import { APP_SERVER_CONNECTION as CONNECTION, APP_SERVER_LAN as LAN } from "./helpers";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDYB0PgYaHOhnNc0Sw3KyUM8/T5tYm9+4z1nnQXqa2Yo kiosk";

function spec(overrides: Record<string, unknown> = {}): AppServerSpec {
    const result = validateAppServer({
        connection: CONNECTION,
        lan: LAN,
        users: [{ name: "pupil01", uid: 2001, authorizedKeys: [KEY] }, { name: "pupil02" }],
        passwords: { pupil01: sha512Crypt("secret-1", "saltsalt"), pupil02: sha512Crypt("secret-2", "pepper") },
        ...overrides,
    });
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

describe("SHA-512 crypt", () => {
    it("gives what `openssl passwd -6` gives for the same salt and password", () => {
        // Printed by OpenSSL 3.0 on this machine: openssl passwd -6 -salt saltsalt 'hello world', and
        // openssl passwd -6 -salt abcdefghijklmnop 'pässwörd' (UTF-8, the 16-character salt limit).
        expect(sha512Crypt("hello world", "saltsalt")).toBe(
            "$6$saltsalt$QTxtZHhDasfdQccjU6pne9Cgluf7B8Bly.Re0Rl4FET20RuNBAR2/L6Sg1AQyXUrp1lQc/2QhityVbnc2s1bQ0",
        );
        expect(sha512Crypt("pässwörd", "abcdefghijklmnop")).toBe(
            "$6$abcdefghijklmnop$Z142AM4CbyHnvFikRKauX.vgsnvjYLvt4bZlZZZrlgVhDW0zltnUun6G9I5xvVirZ/Y9MRz96lJh5eoUicidR.",
        );
    });

    it("matches the real tool on a fresh salt too (openssl, when installed)", () => {
        const hash = sha512Crypt("another one", "Xy7./pQ");
        let expected: string | undefined;
        try {
            expected = execFileSync("openssl", ["passwd", "-6", "-salt", "Xy7./pQ", "another one"], { encoding: "utf8" }).trim();
        } catch {
            return; // no openssl: the fixed vectors above still hold
        }
        expect(hash).toBe(expected);
    });

    it("keeps the stored hash while the password is the same, a new one when it changes", () => {
        const first = hashPasswords({ pupil01: "a" }, undefined);
        expect(sha512CryptMatches("a", first.pupil01)).toBe(true);
        expect(hashPasswords({ pupil01: "a" }, first)).toEqual(first);
        const changed = hashPasswords({ pupil01: "b" }, first);
        expect(changed.pupil01).not.toBe(first.pupil01);
        expect(sha512CryptMatches("b", changed.pupil01)).toBe(true);
        expect(sha512CryptMatches("a", changed.pupil01)).toBe(false);
    });
});

describe("AppServer: a changed password shows in the preview", () => {
    it("check gives each user a digest of its hash: the same while the password is, another when it changes; never the password", async () => {
        const news = (password: string) => ({
            connection: CONNECTION,
            lan: LAN,
            users: [{ name: "pupil01" }, { name: "pupil02" }],
            passwords: { pupil01: password, pupil02: "kept" },
            managedBy: "test",
        });
        const first = (await appServerProvider.check!({}, news("old-one"))).inputs;
        const same = (await appServerProvider.check!(first, news("old-one"))).inputs;
        const changed = (await appServerProvider.check!(first, news("new-one"))).inputs;
        // The CLI masks secrets before it diffs: passwords alone would be "[secret]" on both sides.
        expect(same.passwordDigests).toEqual(first.passwordDigests);
        expect(changed.passwordDigests.pupil01).not.toBe(first.passwordDigests.pupil01);
        expect(changed.passwordDigests.pupil02).toBe(first.passwordDigests.pupil02);
        expect(changed.passwordDigests.pupil01).toMatch(/^[0-9a-f]{12}$/);
        expect(JSON.stringify(changed.passwordDigests)).not.toContain("new-one");
        // Outputs as a converged server would have them: every file as rendered, services active, users present.
        const outputs = {
            ...first,
            managedFiles: Object.fromEntries(
                Object.entries(first.rendered as Record<string, string>).map(([path, c]) => [path, { sha256: sha256Hex(c) }]),
            ),
            services: Object.fromEntries(SERVICES.map((service) => [service, { active: "active" }])),
            presentUsers: ["pupil01", "pupil02"],
        };
        expect((await appServerProvider.diff!("x", outputs, same)).changes).toBe(false);
        expect((await appServerProvider.diff!("x", outputs, changed)).changes).toBe(true);
    });
});

describe("AppServer inputs", () => {
    it("rejects a password for a user it does not have, naming the field and never the value", () => {
        const result = validateAppServer({ connection: CONNECTION, lan: LAN, users: [{ name: "pupil01" }], passwords: { pupil09: "top-secret" } });
        expect(result.ok).toBe(false);
        const reasons = result.ok ? [] : result.failures.map((f) => f.reason);
        expect(reasons.join("\n")).toContain("passwords.pupil09: [secret] is not a user of this server (users: pupil01)");
        expect(reasons.join("\n")).not.toContain("top-secret");
    });

    it("rejects a user named twice, a shared uid and a system uid", () => {
        const result = validateAppServer({
            connection: CONNECTION,
            lan: LAN,
            users: [
                { name: "a", uid: 2000 },
                { name: "a", uid: 2000 },
                { name: "c", uid: 100 },
            ],
        });
        const reasons = result.ok ? "" : result.failures.map((f) => f.reason).join("\n");
        expect(reasons).toContain('users.1.name: "a" is also the name of users[0]');
        expect(reasons).toContain("users.1.uid: 2000 is also the uid of users[0]");
        expect(reasons).toContain("users.2.uid: 100 must be 1000-59999 (a regular user)");
    });
});

/** A server that has exactly what the spec wants. */
function matching(s: AppServerSpec) {
    const files = renderAppServerFiles(s, "test");
    const packages = appServerPackages(s);
    const observed: HostObservation = {
        files: Object.fromEntries(files.map((f) => [f.path, f.sha256])),
        services: { [SSH_SERVICE]: { active: "active", enabled: "enabled" }, [LDMINFOD_SOCKET]: { active: "active", enabled: "enabled" } },
        packages: Object.fromEntries(packages.map((p) => [p, "1"])),
    };
    const users: Record<string, ObservedUser> = Object.fromEntries(
        s.users.map((u) => [
            u.name,
            {
                exists: true,
                uid: u.uid ?? 1001,
                home: `/home/${u.name}`,
                shell: "/bin/bash",
                passwordSha256: sha256Hex(s.passwords[u.name]),
                hasHome: true,
            },
        ]),
    );
    return { files, packages, observed, users };
}

describe("planning an AppServer", () => {
    it("a bare host: packages, the sshd drop-in past sshd's check, users with hashes on stdin only, keys, ldminfod, restarts", () => {
        const s = spec();
        const files = renderAppServerFiles(s, "test");
        const packages = appServerPackages(s);
        const bare: HostObservation = { files: {}, services: {}, packages: {} };
        const steps = planAppServer(s, files, packages, {}, bare, { pupil01: { exists: false }, pupil02: { exists: false } });
        // No `enable ssh`: installing openssh-server enables it (its postinst), the restart starts it with our drop-in.
        expect(steps.map((st) => st.kind)).toEqual(["install", "write", "run", "write", "write", "write", "write", "run", "restart"]);
        const users = steps.find((st) => st.kind === "run" && st.script === "appserver-users");
        expect(users?.kind === "run" && users.what).toBe("users pupil01 (missing), pupil02 (missing)");
        // The hashes travel on stdin, one line per user (the last field: created here, so marked as ours); never in the step's description or arguments.
        expect(users?.kind === "run" && users.stdin).toBe(
            `pupil01\t2001\t/home/pupil01\t/bin/bash\t${s.passwords.pupil01}\t1\npupil02\t-\t/home/pupil02\t/bin/bash\t${s.passwords.pupil02}\t1\n`,
        );
        expect(JSON.stringify(steps.map((st) => (st.kind === "run" ? { ...st, stdin: "" } : st)))).not.toContain("$6$");
        const dropin = steps.find((st) => st.kind === "write" && st.file.path === SSHD_DROPIN);
        expect(dropin).toMatchObject({ check: SSHD_CHECK, reload: [SSH_SERVICE] });
        const keys = steps.find((st) => st.kind === "write" && st.file.path === "/home/pupil01/.ssh/authorized_keys");
        // Confined to the home: a link the pupil made there cannot lead the write out of it.
        expect(keys).toMatchObject({ owner: "pupil01:pupil01", file: { mode: "0600" }, confineTo: "/home/pupil01" });
        expect(steps.find((st) => st.kind === "write" && st.file.path === LDMINFOD_SCRIPT)).toMatchObject({ file: { mode: "0755" } });
        // The keys are written after the users exist (their owner must).
        expect(steps.indexOf(users!)).toBeLessThan(steps.indexOf(keys!));
    });

    it("a host that matches: no steps", () => {
        const s = spec();
        const m = matching(s);
        expect(planAppServer(s, m.files, m.packages, {}, m.observed, m.users)).toEqual([]);
    });

    it("a changed password is one users step; a stopped ldminfod socket is started; nothing else", () => {
        const s = spec();
        const m = matching(s);
        m.users.pupil02 = { ...(m.users.pupil02 as Extract<ObservedUser, { exists: true }>), passwordSha256: sha256Hex("$6$old$...") };
        m.observed.services[LDMINFOD_SOCKET] = { active: "inactive", enabled: "enabled" };
        const steps = planAppServer(s, m.files, m.packages, {}, m.observed, m.users);
        expect(steps.map((st) => (st.kind === "run" ? st.what : st.kind))).toEqual(["users pupil02 (password differs)", `start ${LDMINFOD_SOCKET}`]);
    });

    it("parses the users observation (absent users, passwd fields, the lock, this project's mark; the host's accounts)", () => {
        const out =
            "user\tpupil01\t2001\t/home/pupil01\t/bin/bash\tabc\t1\t1\tschool/lab: AppServer app1\t2001\n" +
            "user\tpupil02\t-\nuser\tteacher\t1500\t/home/teacher\t/bin/bash\tdef\t1\t0\t-\t-\naccount\troot\t0\t/root\n";
        expect(parseObservedUsers(out)).toEqual({
            pupil01: {
                exists: true,
                uid: 2001,
                home: "/home/pupil01",
                shell: "/bin/bash",
                passwordSha256: "abc",
                hasHome: true,
                locked: true,
                mark: { owner: "school/lab: AppServer app1", uid: 2001 },
            },
            pupil02: { exists: false },
            teacher: {
                exists: true,
                uid: 1500,
                home: "/home/teacher",
                shell: "/bin/bash",
                passwordSha256: "def",
                hasHome: true,
                locked: false,
                mark: null,
            },
        });
        expect(parseHostAccounts(out)).toEqual([{ name: "root", uid: 0, home: "/root" }]);
    });

    it("its drop-in is one sshd accepts (sshd -t, when sshd is installed here)", () => {
        const dropin = renderAppServerFiles(spec(), "test").find((f) => f.path === SSHD_DROPIN)!;
        expect(dropin.content).toMatch(/^X11Forwarding yes$/m);
        const dir = mkdtempSync(join(tmpdir(), "sshd-"));
        writeFileSync(join(dir, "c"), dropin.content);
        try {
            execFileSync("/usr/sbin/sshd", ["-t", "-f", join(dir, "c"), "-h", join(__dirname, "..", "fixtures", "unit-test-key")], { stdio: "pipe" });
        } catch (err) {
            const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
            if (e.code === "ENOENT") return;
            throw new Error(`sshd -t: ${e.stderr?.toString()}`);
        }
    });
});

describe("the school's balance config, checked against its clients before anything is made", () => {
    const servers = [
        { name: "app1", address: "10.213.1.11", cores: 2 },
        { name: "app2", address: "10.213.1.12", cores: 2 },
    ];
    const macs = Array.from({ length: 17 }, (_, i) => `52:54:00:00:08:${(i + 1).toString(16).padStart(2, "0")}`);

    it("accepts the 17-client lab (sticky, bound 1.1: 9 + 9 places for 17 clients)", () => {
        expect(schoolBalanceFailures({ policy: "sticky", bound: 1.1 }, servers, macs)).toEqual([]);
    });

    it("names the config key of each bad value", () => {
        expect(schoolBalanceFailures({ policy: "round-robin" as never }, servers, macs)).toEqual([
            'netboot:balance.policy: "round-robin" is not one of "fixed", "random", "best-rated", "weighted", "sticky"',
        ]);
        expect(schoolBalanceFailures({ policy: "weighted" }, [servers[0], { ...servers[1], weight: 0 }], macs)).toEqual([
            "netboot:appServers[1].weight: 0 must be more than 0 (a server that takes no clients is removed from the list)",
        ]);
        expect(schoolBalanceFailures({ policy: "fixed", fixed: { [macs[0]]: "app9" } }, servers, macs)).toEqual([
            `netboot:balance.fixed.${macs[0]}: "app9" is not a server of this site (known servers: app1, app2)`,
        ]);
        // 1.0 x 1/2 x 17 = 8.5: each server may take 8, 16 places for 17 clients.
        expect(schoolBalanceFailures({ policy: "sticky", bound: 1.0 }, servers, macs)).toEqual([
            "netboot:balance.bound: 1 lets the 2 servers hold only 16 of the 17 clients (each takes at most floor(bound x its weight share x clients)); raise bound or add servers",
        ]);
    });
});

describe("the thin-client image's session", () => {
    it("runs the chooser with the session command, each argument one shell word, and autologins on the console", () => {
        const { files, postInstall } = clientImageFiles(
            { command: ["ssh", "-X", "-o", "StrictHostKeyChecking=accept-new", "pupil01@{server}"], autologin: { user: "root", console: "ttyS0" } },
            "test",
        );
        const session = files["/usr/share/boot-iac/session.sh"];
        expect(session).toContain(
            "exec /bin/sh /usr/share/boot-iac/chooser.sh -- 'ssh' '-X' '-o' 'StrictHostKeyChecking=accept-new' 'pupil01@{server}'\n",
        );
        // The session script is valid sh, and so is the login hook.
        const dir = mkdtempSync(join(tmpdir(), "session-"));
        for (const [name, text] of [
            ["s", session],
            ["p", files["/etc/profile.d/zz-netboot-session.sh"]],
        ]) {
            writeFileSync(join(dir, name), text);
            execFileSync("sh", ["-n", join(dir, name)]);
        }
        expect(files["/usr/share/boot-iac/getty-autologin.conf"]).toContain("ExecStart=-/sbin/agetty --autologin root --noclear");
        expect(postInstall).toEqual([
            "mkdir -p /etc/systemd/system/serial-getty@ttyS0.service.d && cp /usr/share/boot-iac/getty-autologin.conf /etc/systemd/system/serial-getty@ttyS0.service.d/netboot-autologin.conf",
        ]);
        expect(Object.keys(files)).toContain("/usr/share/boot-iac/chooser.sh");
    });
});

describe("SessionBalance: what a preview shows when a server is added", () => {
    const servers = [
        { name: "app1", address: "10.213.1.11", cores: 2 },
        { name: "app2", address: "10.213.1.12", cores: 2 },
    ];
    const clients = Array.from({ length: 17 }, (_, i) => `52:54:00:00:08:${(i + 1).toString(16).padStart(2, "0")}`);

    it("changes the sections of exactly the clients whose server changes, and lists them", async () => {
        const first = (await sessionBalanceProvider.check!({}, { balance: { policy: "sticky", servers }, clients })).inputs as Record<string, any>;
        const added = [...servers, { name: "app3", address: "10.213.1.13", cores: 2 }];
        const second = (await sessionBalanceProvider.check!(first, { balance: { policy: "sticky", servers: added }, clients })).inputs as Record<
            string,
            any
        >;
        const changedSections = clients.filter((mac) => JSON.stringify(first.perClient[mac]) !== JSON.stringify(second.perClient[mac]));
        const serverChanged = clients.filter((mac) => first.plan.assignment[mac] !== second.plan.assignment[mac]);
        expect(changedSections.length).toBeGreaterThan(0);
        expect(changedSections).toEqual(serverChanged);
        expect(second.moved.map((m: { mac: string }) => m.mac)).toEqual(serverChanged);
        // Each section names the client's own server only (its fallback is weighted over the answering ones).
        for (const mac of clients)
            expect(second.perClient[mac].BALANCE_PREFER).toBe(added.find((s) => s.name === second.plan.assignment[mac])!.address);
        // Checked again with nothing changed: the same plan, nobody moves.
        const third = (await sessionBalanceProvider.check!(second, { balance: { policy: "sticky", servers: added }, clients })).inputs as Record<
            string,
            any
        >;
        expect(third.plan).toEqual(second.plan);
        expect(third.moved).toEqual([]);
    });

    it("fails check naming the balance field", async () => {
        const result = await sessionBalanceProvider.check!({}, { balance: { policy: "round-robin", servers }, clients });
        expect(result.failures?.map((f) => f.reason)).toEqual([
            'balance.policy: "round-robin" is not one of "fixed", "random", "best-rated", "weighted", "sticky"',
        ]);
    });
});
