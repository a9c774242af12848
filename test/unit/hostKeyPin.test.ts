import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseHostKeys } from "../../lib/appserver/apply";
import { CLIENT_SCRIPT_DIR } from "../../lib/balance/ltspConf";
import { clientImageFiles, KNOWN_HOSTS, knownHostsFile, SSH_PIN_CONF } from "../../lib/school/site";

/**
 * Issue 17 section 4: thin clients pin the application servers' host keys. Before, the login
 * screen ran ssh with StrictHostKeyChecking=accept-new and a known_hosts in /run, empty at every
 * boot: any host on the LAN answering at a server's address got the pupils' passwords.
 */
describe("thin clients pin the application servers' host keys (issue 17 section 4)", () => {
    const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDYB0PgYaHOhnNc0Sw3KyUM8/T5tYm9+4z1nnQXqa2Yo";
    const ECDSA =
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=";

    it("an AppServer reports its host keys as TYPE BASE64, sorted, without the install-time comment", () => {
        const out = `${ED} root@h1\n${ECDSA} root@h1\n\nnot a key\n${ED} root@h1\n`;
        expect(parseHostKeys(out)).toEqual([ECDSA, ED]);
    });

    it("the image's ssh_known_hosts lists each server's keys under the LAN address the chooser connects to", () => {
        const text = knownHostsFile(
            [
                { address: "10.213.1.11", hostKeys: [ECDSA, ED] },
                { address: "10.213.1.12", hostKeys: [ED] },
            ],
            "test",
        );
        expect(text.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([`10.213.1.11 ${ECDSA}`, `10.213.1.11 ${ED}`, `10.213.1.12 ${ED}`]);
    });

    it("the image's ssh trusts that file only and never learns a key: ssh -G on the rendered settings", () => {
        const files = clientImageFiles({ command: ["ssh", "-X", "{server}"] }, "test").files;
        const dir = mkdtempSync(join(tmpdir(), "ssh-pin-"));
        try {
            writeFileSync(join(dir, "config"), files[SSH_PIN_CONF]);
            const effective = execFileSync("ssh", ["-G", "-F", join(dir, "config"), "10.213.1.11"], { encoding: "utf8" })
                .split("\n")
                .filter((l) => /^(stricthostkeychecking|globalknownhostsfile|userknownhostsfile) /.test(l))
                .sort();
            // `true` is ssh -G's word for "yes"; before, it was accept-new with a known_hosts in /run, empty at every boot.
            expect(effective).toEqual([`globalknownhostsfile ${KNOWN_HOSTS}`, "stricthostkeychecking true", "userknownhostsfile /dev/null"]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
        // The login screen's own ssh says the same on its command line (which wins over any config file).
        const login = files[`${CLIENT_SCRIPT_DIR}/remote-login.sh`];
        expect(login).toContain(`-o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=${KNOWN_HOSTS} -o UserKnownHostsFile=/dev/null`);
        expect(login).not.toMatch(/accept-new|\/run\/boot-iac\/known_hosts/);
    });
});
