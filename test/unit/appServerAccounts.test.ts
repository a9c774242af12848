import { chmodSync, copyFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type AppServerRecord, convergeAppServer, removeAppServer } from "../../lib/appserver/apply";
import {
    appServerPackages,
    type HostAccount,
    NO_ACCOUNTS,
    type ObservedUser,
    planAccounts,
    planAppServer,
    renderAppServerFiles,
} from "../../lib/appserver/plan";
import { sha512Crypt } from "../../lib/appserver/shaCrypt";
import { type AppServerSpec, validateAppServer } from "../../lib/appserver/spec";
import { sha256Hex } from "../../lib/core/sha256";
import type { Step } from "../../lib/engine/steps";
import { remoteScript } from "../../lib/remote/scripts";
import { APP_SERVER_CONNECTION as CONNECTION, APP_SERVER_LAN as LAN } from "./helpers";
import { ChrootHost } from "./support/chrootHost";

const OWNER = "school/lab: AppServer app1";
const H1 = sha512Crypt("secret-1", "saltsalt");
const H2 = sha512Crypt("secret-2", "pepper");

function spec(overrides: Record<string, unknown> = {}): AppServerSpec {
    const result = validateAppServer({ connection: CONNECTION, lan: LAN, users: [{ name: "pupil01" }, { name: "pupil02" }], ...overrides });
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

function reasons(inputs: Record<string, unknown>): string[] {
    const result = validateAppServer({ connection: CONNECTION, lan: LAN, ...inputs });
    return result.ok ? [] : result.failures.map((f) => f.reason);
}

/** An existing account as observed: regular, home under /home, unmarked unless told. */
function present(uid: number, extra: Partial<Extract<ObservedUser, { exists: true }>> = {}): ObservedUser {
    return {
        exists: true,
        uid,
        home: "/home/x",
        shell: "/bin/bash",
        passwordSha256: sha256Hex("!"),
        hasHome: true,
        locked: false,
        mark: null,
        ...extra,
    };
}

function runSteps(steps: Step[], script: string) {
    return steps.filter((s): s is Extract<Step, { kind: "run" }> => s.kind === "run" && s.script === script);
}

describe("AppServer users: refused in the inputs, one line naming the field and the value", () => {
    it("a system account by name", () => {
        expect(reasons({ users: [{ name: "pupil01" }, { name: "pupil02" }, { name: "root" }] })).toEqual([
            'users.2.name: "root" is a system account',
        ]);
        expect(reasons({ users: [{ name: "www-data" }] })).toEqual(['users.0.name: "www-data" is a system account']);
    });

    it("a home outside the home base, also through '..', and a home base that is a system directory", () => {
        expect(reasons({ users: [{ name: "a" }, { name: "b", home: "/etc" }] })).toEqual(['users.1.home: "/etc" is outside the home base /home']);
        expect(reasons({ users: [{ name: "a", home: "/home" }] })).toEqual(['users.0.home: "/home" is outside the home base /home']);
        expect(reasons({ users: [{ name: "a", home: "/home/../etc" }] })).toEqual([
            'users.0.home: "/home/../etc" has an empty, "." or ".." part or a trailing slash',
        ]);
        // The message is the one every directory a resource takes over gets (fields.ts, systemLocationReason).
        expect(reasons({ homeBase: "/", users: [{ name: "a" }] })).toEqual([
            'homeBase: "/" is a system location (/ itself); choose a directory of its own below it',
        ]);
        expect(reasons({ homeBase: "/etc/pupils", users: [] })).toEqual([
            'homeBase: "/etc/pupils" is a system location (/etc and everything below it belong to the system); choose a directory of its own, like /srv/NAME',
        ]);
        // Another base: the default home follows it, and a home under /home is now outside.
        expect(reasons({ homeBase: "/srv/homes", users: [{ name: "a" }, { name: "b", home: "/home/b" }] })).toEqual([
            'users.1.home: "/home/b" is outside the home base /srv/homes',
        ]);
    });

    it("two users with one home (or one inside the other's), named together", () => {
        expect(
            reasons({
                users: [
                    { name: "a", home: "/home/shared" },
                    { name: "b", home: "/home/shared" },
                ],
            }),
        ).toEqual(['users.1.home: "/home/shared" is also the home of users[0] (a): two users never share a home']);
        expect(
            reasons({
                users: [
                    { name: "a", home: "/home/b" },
                    { name: "b", home: "/home/b/work" },
                ],
            }),
        ).toEqual(['users.1.home: "/home/b/work" is inside the home of users[0] (a): two users never share a home']);
    });
});

describe("planning the accounts (pure: observation in, steps out)", () => {
    const previous = { createdUsers: ["pupil01", "pupil02"], adoptedUsers: [], passwordUsers: ["pupil01", "pupil02"] };

    it("refuses an existing system account (uid below 1000) in the config, before any step", () => {
        const s = spec({ users: [{ name: "pupil01" }, { name: "backupop" }] });
        const users = { pupil01: { exists: false as const }, backupop: present(998, { home: "/var/backups" }) };
        const plan = planAccounts(s, users, [], NO_ACCOUNTS, OWNER);
        expect(plan.refusals).toEqual(['users.1.name: "backupop" is a system account (uid 998), not a user this server may manage']);
        expect(plan.steps).toEqual([]);
        const files = renderAppServerFiles(s, OWNER);
        expect(() =>
            planAppServer(s, files, appServerPackages(s), {}, { files: {}, services: {}, packages: {} }, users, {
                hostAccounts: [],
                previous: NO_ACCOUNTS,
                owner: OWNER,
            }),
        ).toThrow(`${OWNER}: refused, nothing was changed:\n  users.1.name: "backupop" is a system account (uid 998)`);
    });

    it("refuses another resource's account, an existing account's home outside the base, a home or uid another account has", () => {
        const s = spec({ users: [{ name: "a" }, { name: "b" }, { name: "c", uid: 3000 }, { name: "d", home: "/home/teacher" }] });
        const users: Record<string, ObservedUser> = {
            a: present(1001, { home: "/home/a", mark: { owner: "school/other: AppServer app2", uid: 1001 } }),
            b: present(1002, { home: "/srv/b" }),
            c: { exists: false },
            d: { exists: false },
        };
        const accounts: HostAccount[] = [
            { name: "root", uid: 0, home: "/root" },
            { name: "teacher", uid: 3000, home: "/home/teacher" },
        ];
        expect(planAccounts(s, users, accounts, NO_ACCOUNTS, OWNER).refusals).toEqual([
            'users.0.name: "a" is an account of school/other: AppServer app2, not of school/lab: AppServer app1',
            'users.1.name: "b" exists with its home at "/srv/b", outside the home base /home',
            'users.2.uid: 3000 is the uid of the existing account "teacher"',
            'users.3.home: "/home/teacher" is the home of the existing account "teacher" (/home/teacher): two users never share a home',
        ]);
    });

    it("adopts an existing regular account it did not create: its password is set, it is not marked as ours", () => {
        const s = spec({ users: [{ name: "teacher" }], passwords: { teacher: H1 } });
        const plan = planAccounts(s, { teacher: present(1500, { home: "/home/teacher" }) }, [], NO_ACCOUNTS, OWNER);
        expect(plan.refusals).toEqual([]);
        expect(plan.adopted).toEqual(["teacher"]);
        expect(plan.owned).toEqual([]);
        const [users] = runSteps(plan.steps, "appserver-users");
        expect(users.args).toEqual([OWNER]);
        expect(users.stdin).toBe(`teacher\t-\t/home/teacher\t/bin/bash\t${H1}\t0\n`);
    });

    it("a user removed from the config: removed when marked as ours (home kept unless asked), kept when not; an adopted one is left alone", () => {
        const s = spec({ users: [{ name: "pupil01" }] });
        const users: Record<string, ObservedUser> = {
            pupil01: present(1001, { home: "/home/pupil01", mark: { owner: OWNER, uid: 1001 } }),
            pupil02: present(1002, { home: "/home/pupil02", mark: { owner: OWNER, uid: 1002 } }),
            pupil03: present(1003, { home: "/home/pupil03", mark: null }),
            pupil04: present(1004, { home: "/home/pupil04", mark: { owner: OWNER, uid: 1010 } }),
            teacher: present(1500, { home: "/home/teacher" }),
        };
        const prev = { createdUsers: ["pupil01", "pupil02", "pupil03", "pupil04"], adoptedUsers: ["teacher"], passwordUsers: [] };
        const plan = planAccounts(s, users, [], prev, OWNER);
        const [remove] = runSteps(plan.steps, "appserver-remove-users");
        expect(remove.args).toEqual([OWNER, "0", "/home", "pupil02"]);
        expect(plan.kept).toEqual([
            `pupil03 (not marked as created by ${OWNER} on the host)`,
            `pupil04 (not marked as created by ${OWNER} on the host)`,
        ]);
        const withHomes = planAccounts({ ...s, removeHomesOnDelete: true }, users, [], prev, OWNER);
        expect(runSteps(withHomes.steps, "appserver-remove-users")[0].args).toEqual([OWNER, "1", "/home", "pupil02"]);
        expect(runSteps(plan.steps, "appserver-users")).toEqual([]);
        // The adopted teacher is never removed; only when this resource had set its password is it locked.
        expect(runSteps(plan.steps, "appserver-lock-users")).toEqual([]);
        const lock = runSteps(planAccounts(s, users, [], { ...prev, passwordUsers: ["teacher"] }, OWNER).steps, "appserver-lock-users");
        expect(lock.map((st) => st.args)).toEqual([["teacher"]]);
    });

    it("a password removed from the config locks the account (once: a locked one is left)", () => {
        const s = spec({ passwords: { pupil01: H1 } });
        const mine = (uid: number, locked: boolean) =>
            present(uid, {
                home: `/home/pupil0${uid - 1000}`,
                passwordSha256: sha256Hex(uid === 1001 ? H1 : H2),
                locked,
                mark: { owner: OWNER, uid },
            });
        const plan = planAccounts(s, { pupil01: mine(1001, false), pupil02: mine(1002, false) }, [], previous, OWNER);
        const [users] = runSteps(plan.steps, "appserver-users");
        expect(users.what).toBe("users pupil02 (password removed: lock)");
        expect(users.stdin).toContain("pupil02\t-\t/home/pupil02\t/bin/bash\t!\t1\n");
        expect(planAccounts(s, { pupil01: mine(1001, false), pupil02: mine(1002, true) }, [], previous, OWNER).steps).toEqual([]);
    });
});

/** Debian's account tools, faked over the chroot's /etc/passwd and /etc/shadow; sshd -t accepts anything. */
function accountHost(): ChrootHost {
    const host = ChrootHost.create();
    copyFileSync(join(__dirname, "support", "fake-accounts.sh"), host.path("bin/fake-accounts"));
    chmodSync(host.path("bin/fake-accounts"), 0o755);
    for (const tool of ["getent", "useradd", "usermod", "userdel", "chpasswd", "loginctl"]) symlinkSync("fake-accounts", host.path(`bin/${tool}`));
    host.put("bin/sshd", "#!/bin/sh\nexit 0\n", 0o755);
    host.put(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nbackupop:x:998:998::/var/backups:/bin/sh\nteacher:x:1500:1500::/home/teacher:/bin/bash\n",
    );
    host.put("etc/shadow", "root:*:19000::::::\nbackupop:*:19000::::::\nteacher:$6$old$teacher:19000::::::\n", 0o640);
    host.put("etc/group", "");
    host.put("home/teacher/notes", "the teacher's own\n");
    host.put("etc/skel/.profile", "# skel\n");
    host.installed("openssh-server", "xauth", "libpam-systemd");
    host.service("ssh", "active", "enabled");
    return host;
}

function shadowField(host: ChrootHost, name: string): string | undefined {
    return (host.text("etc/shadow") ?? "")
        .split("\n")
        .find((l) => l.startsWith(`${name}:`))
        ?.split(":")[1];
}

function hasAccount(host: ChrootHost, name: string): boolean {
    return (host.text("etc/passwd") ?? "").split("\n").some((l) => l.startsWith(`${name}:`));
}

const EMPTY: AppServerRecord = { managedFiles: {}, installedPackages: [], ...NO_ACCOUNTS };

describe("an application server's accounts, through the real scripts on a fake host", () => {
    let host: ChrootHost | undefined;
    afterEach(() => host?.remove());

    it("creates and marks pupils, adopts the teacher; a user removed leaves (home kept), a password removed locks; delete removes only its own", async () => {
        host = accountHost();
        const first = spec({
            users: [{ name: "pupil01" }, { name: "pupil02" }, { name: "teacher" }],
            passwords: { pupil01: H1, pupil02: H2, teacher: H1 },
        });
        const s1 = await convergeAppServer(host, first, OWNER, EMPTY);
        expect(s1.createdUsers).toEqual(["pupil01", "pupil02"]);
        expect(s1.adoptedUsers).toEqual(["teacher"]);
        expect(s1.passwordUsers).toEqual(["pupil01", "pupil02", "teacher"]);
        expect(host.text("var/lib/netboot/owned/account/pupil01/.owner")).toBe(`${OWNER}\nuid 1501\n`);
        expect(host.exists("var/lib/netboot/owned/account/teacher")).toBe(false);
        expect(shadowField(host, "pupil01")).toBe(H1);
        expect(shadowField(host, "teacher")).toBe(H1);
        host.put("home/pupil01/work.odt", "pupil01's work\n", 0o644, 1501, 1501);

        // pupil02 leaves the config (its sessions end, its home stays); pupil01's password is removed.
        const second = spec({ users: [{ name: "pupil01" }, { name: "teacher" }], passwords: { teacher: H1 } });
        const s2 = await convergeAppServer(host, second, OWNER, { ...EMPTY, ...s1 });
        expect(hasAccount(host, "pupil02")).toBe(false);
        expect(host.exists("home/pupil02")).toBe(true);
        expect(host.exists("var/lib/netboot/owned/account/pupil02")).toBe(false);
        expect(host.calls()).toContain("loginctl terminate-user pupil02");
        expect(shadowField(host, "pupil01")).toBe(`!${H1}`);
        expect(s2.createdUsers).toEqual(["pupil01"]);
        expect(s2.passwordUsers).toEqual(["pupil01", "teacher"]);
        // Converged: nothing more to do (the lock holds, no step re-runs).
        const s3 = await convergeAppServer(host, second, OWNER, { ...EMPTY, ...s2 });
        expect(s3.steps).toBe(0);

        // The adopted teacher leaves the config: never removed, but locked (its password was the config's).
        const third = spec({ users: [{ name: "pupil01" }] });
        const s4 = await convergeAppServer(host, third, OWNER, { ...EMPTY, ...s3 });
        expect(hasAccount(host, "teacher")).toBe(true);
        expect(shadowField(host, "teacher")).toBe(`!${H1}`);
        expect(s4.adoptedUsers).toEqual([]);
        expect(s4.passwordUsers).toEqual(["pupil01"]);
        expect((await convergeAppServer(host, third, OWNER, { ...EMPTY, ...s4 })).steps).toBe(0);

        // Delete: pupil01 goes (home kept), the adopted teacher and the system account stay.
        await removeAppServer(host, { ...EMPTY, ...s4 }, third, OWNER);
        expect(hasAccount(host, "pupil01")).toBe(false);
        expect(host.text("home/pupil01/work.odt")).toBe("pupil01's work\n");
        expect(hasAccount(host, "teacher")).toBe(true);
        expect(host.text("home/teacher/notes")).toBe("the teacher's own\n");
        expect(hasAccount(host, "backupop")).toBe(true);
        expect(host.calls().filter((c) => c.startsWith("userdel"))).toEqual(["userdel pupil02", "userdel pupil01"]);
    });

    // Issue 17, 1: renaming appServers[].name made a new AppServer (create before delete), and the old one's
    // delete removed every pupil it had created. Within a stack the accounts pass to the renamed resource.
    it("a renamed AppServer of the same stack takes the pupils over; the old one's delete removes none of them", async () => {
        host = accountHost();
        const users = spec({ users: [{ name: "pupil01" }, { name: "pupil02" }], passwords: { pupil01: H1, pupil02: H2 } });
        const old = await convergeAppServer(host, users, OWNER, EMPTY);
        const renamedOwner = "school/lab: AppServer app-one";
        const renamed = await convergeAppServer(host, users, renamedOwner, EMPTY);
        expect(renamed.createdUsers).toEqual(["pupil01", "pupil02"]);
        expect(host.text("var/lib/netboot/owned/account/pupil01/.owner")).toBe(`${renamedOwner}\nuid 1501\n`);
        await removeAppServer(host, { ...EMPTY, ...old }, users, OWNER);
        expect(hasAccount(host, "pupil01") && hasAccount(host, "pupil02")).toBe(true);
        expect(host.calls().filter((c) => c.startsWith("userdel") || c.startsWith("loginctl"))).toEqual([]);
        await removeAppServer(host, { ...EMPTY, ...renamed }, users, renamedOwner);
        expect(hasAccount(host, "pupil01") || hasAccount(host, "pupil02")).toBe(false);
    });

    it("delete removes homes when asked, only inside the home base, and never an account not marked as its own, even when the state names it", async () => {
        host = accountHost();
        const s = spec({
            users: [{ name: "pupil01" }, { name: "pupil02" }, { name: "pupil03" }],
            passwords: { pupil01: H1 },
            removeHomesOnDelete: true,
        });
        const state = await convergeAppServer(host, s, OWNER, EMPTY);
        // By hand: pupil01's home became a link to a directory outside the home base, pupil02's is set to another.
        host.put("srv/precious/data", "not a pupil's\n");
        host.put("srv/other/data", "not a pupil's either\n");
        rmSync(host.path("home/pupil01"), { recursive: true });
        symlinkSync("/srv/precious", host.path("home/pupil01"));
        host.put("etc/passwd", (host.text("etc/passwd") ?? "").replace(":/home/pupil02:", ":/srv/other:"));
        // A state that (wrongly) lists the teacher and a system account as created.
        const kept = await removeAppServer(
            host,
            { ...EMPTY, ...state, createdUsers: ["pupil01", "pupil02", "pupil03", "teacher", "backupop"] },
            s,
            OWNER,
        );
        expect(hasAccount(host, "pupil01")).toBe(false);
        expect(hasAccount(host, "pupil02")).toBe(false);
        expect(host.text("srv/precious/data")).toBe("not a pupil's\n");
        expect(host.text("srv/other/data")).toBe("not a pupil's either\n");
        expect(hasAccount(host, "pupil03")).toBe(false);
        expect(host.exists("home/pupil03")).toBe(false);
        expect(hasAccount(host, "teacher")).toBe(true);
        expect(host.text("home/teacher/notes")).toBe("the teacher's own\n");
        expect(hasAccount(host, "backupop")).toBe(true);
        expect(kept).toEqual([
            "kept the home of pupil01: /home/pupil01 is not inside the home base /home",
            "kept the home of pupil02: /srv/other is not inside the home base /home",
            `kept teacher: not marked as created by ${OWNER}`,
            "kept backupop: a system account (uid 998)",
        ]);
    });

    it("a state from before the marks: an update marks the accounts it lists as created; a mark whose uid is not the account's protects it", async () => {
        host = accountHost();
        host.put(
            "etc/passwd",
            `${host.text("etc/passwd")}pupil01:x:1501:1501::/home/pupil01:/bin/bash\npupil02:x:1502:1502::/home/pupil02:/bin/bash\n`,
        );
        host.put("etc/shadow", `${host.text("etc/shadow")}pupil01:${H1}:19000::::::\npupil02:${H2}:19000::::::\n`, 0o640);
        host.put("home/pupil01/.profile", "");
        host.put("home/pupil02/.profile", "");
        const s = spec({ passwords: { pupil01: H1, pupil02: H2 } });
        const legacy = { ...EMPTY, createdUsers: ["pupil01", "pupil02"], passwordUsers: ["pupil01", "pupil02"] };
        const state = await convergeAppServer(host, s, OWNER, legacy);
        expect(host.text("var/lib/netboot/owned/account/pupil01/.owner")).toBe(`${OWNER}\nuid 1501\n`);
        expect(state.createdUsers).toEqual(["pupil01", "pupil02"]);
        expect(state.adoptedUsers).toEqual([]);
        // pupil02 was removed by hand and another account of that name made with another uid: not ours any more.
        host.put("etc/passwd", (host.text("etc/passwd") ?? "").replace("pupil02:x:1502:1502:", "pupil02:x:1600:1600:"));
        const kept = await removeAppServer(host, { ...EMPTY, ...state }, s, OWNER);
        expect(hasAccount(host, "pupil01")).toBe(false);
        expect(hasAccount(host, "pupil02")).toBe(true);
        expect(kept).toEqual([`kept pupil02: not marked as created by ${OWNER}`]);
    });

    it("appserver-users.sh: a useradd that fails leaves no mark behind (the mark is written first, then taken back)", async () => {
        host = accountHost();
        const result = await host.exec(remoteScript("appserver-users"), [OWNER], { stdin: "pupil09\t1500\t/home/pupil09\t/bin/bash\t-\t1\n" });
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain("UID 1500 is not unique");
        expect(hasAccount(host, "pupil09")).toBe(false);
        expect(host.exists("var/lib/netboot/owned/account/pupil09")).toBe(false);
        const ok = await host.exec(remoteScript("appserver-users"), [OWNER], { stdin: "pupil09\t2009\t/home/pupil09\t/bin/bash\t-\t1\n" });
        expect(ok.stdout).toBe("created pupil09\n");
        expect(host.text("var/lib/netboot/owned/account/pupil09/.owner")).toBe(`${OWNER}\nuid 2009\n`);
        expect(host.modeOwner("home/pupil09")).toBe("0750 2009:2009");
    });

    it("refuses a system account seen on the host before any host change", async () => {
        host = accountHost();
        const s = spec({ users: [{ name: "pupil01" }, { name: "backupop" }], passwords: { backupop: H1 } });
        await expect(convergeAppServer(host, s, OWNER, EMPTY)).rejects.toThrow(
            `${OWNER}: refused, nothing was changed:\n  users.1.name: "backupop" is a system account (uid 998), not a user this server may manage`,
        );
        expect(host.mutations).toEqual([]);
        expect(host.calls()).toEqual([]);
        expect(hasAccount(host, "pupil01")).toBe(false);
    });
});
