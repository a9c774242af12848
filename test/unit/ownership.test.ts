import { afterEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../lib/core/sha256";
import { ConvergeError, converge, journalFor, restoreOriginal } from "../../lib/engine/converge";
import type { DesiredFile, Step } from "../../lib/engine/steps";
import { ChrootHost } from "./support/chrootHost";

/**
 * Issue 17, 2: every file the engine manages records its owner on the host; another stack is
 * refused it before anything changes, naming the owner; within a stack the file passes to the
 * resource that writes it (a rename), and the old owner's delete leaves it; originals are kept
 * per file beside its owner record, never in a directory two stacks share.
 */
const hosts: ChrootHost[] = [];
afterEach(() => {
    for (const h of hosts.splice(0)) h.remove();
});
function adminHost(): ChrootHost {
    const host = ChrootHost.create();
    hosts.push(host);
    host.put(CONF, "the administrator's\n", 0o644, 0, 0);
    return host;
}
function file(path: string, content: string): DesiredFile {
    return { path, content, mode: "0644", sha256: sha256Hex(content) };
}

const CONF = "/etc/ltsp/ltsp.conf";
const A = "netboot/school: LtspServer ltsp-server";
const A_RENAMED = "netboot/school: LtspServer boot-server";
const B = "netboot/render: LtspServer ltsp-server";
const write = (content: string): Step[] => [{ kind: "write", file: file(CONF, content) }];

describe("owners on the host (real lib/remote scripts in a busybox chroot)", () => {
    it("records the owner; another stack is refused, naming it, and nothing changes", async () => {
        const host = adminHost();
        const a = await converge(host, write("school\n"), { journal: journalFor(A), managed: {}, owner: A });
        expect(host.text(`/var/lib/netboot/owned/file${CONF}/.owner`)).toBe(`${A}\n`);
        expect(host.text(`/var/lib/netboot/owned/file${CONF}/.original`)).toBe("the administrator's\n");
        const log = host.text("/var/log/netboot/mutations.log");

        const refused = converge(host, write("render\n"), { journal: journalFor(B), managed: {}, owner: B });
        await expect(refused).rejects.toThrow(ConvergeError);
        await expect(refused).rejects.toThrow(
            `${host.label}: ${CONF} belongs to ${A}; netboot/render may not change what another stack manages, so nothing was changed`,
        );
        expect(host.text(CONF)).toBe("school\n");
        expect(host.text("/var/log/netboot/mutations.log")).toBe(log);
        expect(a.managedFiles[CONF].backup).toBe(`/var/lib/netboot/owned/file${CONF}/.original`);
    });

    it("a renamed resource of the same stack takes the file over; the old one's delete leaves it and the original", async () => {
        const host = adminHost();
        const old = await converge(host, write("school\n"), { journal: journalFor(A), managed: {}, owner: A });
        const renamed = await converge(host, write("school, renamed\n"), { journal: journalFor(A_RENAMED), managed: {}, owner: A_RENAMED });
        expect(host.text(`/var/lib/netboot/owned/file${CONF}/.owner`)).toBe(`${A_RENAMED}\n`);
        // The original stays the administrator's: the second write found it kept and kept it.
        expect(renamed.managedFiles[CONF].backup).toBe(`/var/lib/netboot/owned/file${CONF}/.original`);

        // The old resource's delete (create before delete): the file is the new one's now.
        expect(await restoreOriginal(host, CONF, old.managedFiles[CONF], A)).toBe(false);
        expect(host.text(CONF)).toBe("school, renamed\n");
        expect(host.text(`/var/lib/netboot/owned/file${CONF}/.original`)).toBe("the administrator's\n");

        // The new owner's delete puts the administrator's file back and drops the record.
        expect(await restoreOriginal(host, CONF, renamed.managedFiles[CONF], A_RENAMED)).toBe(true);
        expect(host.text(CONF)).toBe("the administrator's\n");
        expect(host.exists(`/var/lib/netboot/owned/file${CONF}`)).toBe(false);
    });

    it("a release drops the owner's record, and then another stack may manage the file", async () => {
        const host = adminHost();
        const a = await converge(host, write("school\n"), { journal: journalFor(A), managed: {}, owner: A });
        await converge(host, [{ kind: "release", path: CONF }], { journal: journalFor(A), managed: a.managedFiles, owner: A });
        expect(host.text(CONF)).toBe("the administrator's\n");
        expect(host.exists(`/var/lib/netboot/owned/file${CONF}/.owner`)).toBe(false);
        await converge(host, write("render\n"), { journal: journalFor(B), managed: {}, owner: B });
        expect(host.text(`/var/lib/netboot/owned/file${CONF}/.owner`)).toBe(`${B}\n`);
    });
});
