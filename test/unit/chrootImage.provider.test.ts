import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { useHostsForTests } from "../../lib/ssh/pool";
import { chrootImageProvider as provider } from "../../resources/chrootImage";
import { TEST_KEY, TEST_PIN } from "./helpers";
import { ChrootHost } from "./support/chrootHost";

const connection = { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN };
let host: ChrootHost;

beforeEach(() => {
    host = ChrootHost.create();
    host.put("/srv/vm/a/etc/os-release", "a\n");
    host.put("/srv/vm/b/etc/os-release", "b\n");
    useHostsForTests(async () => host);
});
afterEach(() => {
    useHostsForTests(undefined);
    host.remove();
});

/** What the engine sends create/update: the inputs as check completed them. */
async function checked(inputs: Record<string, unknown>): Promise<Record<string, any>> {
    const result = await provider.check!({}, { connection, name: "thin", ...inputs });
    if (result.failures?.length) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.inputs!;
}

const squashes = () => host.calls().filter((c) => c.startsWith("ltsp image")).length;

/** One `pulumi up`: diff against the last outputs, update when it says so. */
async function up(olds: Record<string, any>, inputs: Record<string, unknown>): Promise<{ outs: Record<string, any>; changed: boolean }> {
    const news = await checked(inputs);
    const diff = await provider.diff!("id", olds, news);
    if (!diff.changes) return { outs: olds, changed: false };
    return { outs: (await provider.update!("id", olds, news)).outs, changed: true };
}

describe("ChrootImage provider (fake host running the real scripts)", () => {
    it("rollback: true serves the previous build once, and the next up does nothing (no re-squash)", async () => {
        const first = (await provider.create(await checked({ source: { path: "/srv/vm/a" } }))).outs;
        const second = await up(first, { source: { path: "/srv/vm/b" } });
        expect(second.changed).toBe(true);
        expect(squashes()).toBe(2);
        const rolledBack = await up(second.outs, { source: { path: "/srv/vm/b" }, rollback: true });
        expect(rolledBack.outs.sha256).toBe(first.sha256);
        expect(squashes()).toBe(2);
        // The defect: the served build's hash replaced the inputs' hash, so every later up rebuilt.
        const again = await up(rolledBack.outs, { source: { path: "/srv/vm/b" }, rollback: true });
        expect(again.changed).toBe(false);
        const refreshed = (await provider.read!("id", rolledBack.outs)).props!;
        expect((await up(refreshed, { source: { path: "/srv/vm/b" }, rollback: true })).changed).toBe(false);
        expect(squashes()).toBe(2);
    });

    it("a missing kernel shows as drift in refresh (not an error), and the next up builds again", async () => {
        const outs = (await provider.create(await checked({ source: { path: "/srv/vm/a" } }))).outs;
        host.put("/srv/tftp/ltsp/thin/vmlinuz", "");
        const { rmSync } = await import("node:fs");
        rmSync(host.path("/srv/tftp/ltsp/thin/vmlinuz"));
        const refreshed = (await provider.read!("id", outs)).props!;
        expect(refreshed.kernelVersion).toBe("missing");
        const next = await up(refreshed, { source: { path: "/srv/vm/a" } });
        expect(next.changed).toBe(true);
        expect(squashes()).toBe(2);
        expect(host.exists("/srv/tftp/ltsp/thin/vmlinuz")).toBe(true);
    });

    it("delete removes the image and takes it out of the iPXE menu", async () => {
        const outs = (await provider.create(await checked({ source: { path: "/srv/vm/a" } }))).outs;
        await host.run("menu", "ltsp ipxe");
        expect(host.text("/srv/tftp/ltsp/ltsp.ipxe")).toContain("item thin");
        await provider.delete!("id", outs);
        expect(host.exists("/srv/ltsp/images/thin.img")).toBe(false);
        expect(host.exists("/srv/tftp/ltsp/thin")).toBe(false);
        expect(host.text("/srv/tftp/ltsp/ltsp.ipxe")).not.toContain("item thin");
        // A path source is the administrator's: only our link to it goes.
        expect(host.text("/srv/vm/a/etc/os-release")).toBe("a\n");
        expect(host.exists("/srv/ltsp/thin")).toBe(false);
    });

    it("an administrator's chroot or image of the same name is refused at create, named; adopt: true takes it over", async () => {
        host.put("/srv/ltsp/thin/etc/os-release", "admin's chroot\n");
        host.put("/srv/ltsp/images/thin.img", "admin's image\n");
        const err = (await provider.create(await checked({ source: { serverRoot: true } })).catch((e: Error) => e)) as Error;
        expect(err.message).toContain("/srv/ltsp/images/thin.img already exists and netboot did not make it");
        expect(err.message).toContain("adopt: true");
        expect(host.text("/srv/ltsp/images/thin.img")).toBe("admin's image\n");
        expect(squashes()).toBe(0);
        const adopted = (await provider.create(await checked({ source: { serverRoot: true }, adopt: true }))).outs;
        expect(adopted.created).not.toContain("/srv/ltsp/thin");
        await provider.delete!("id", adopted);
        // Adopted, not created: the administrator's chroot stays.
        expect(host.text("/srv/ltsp/thin/etc/os-release")).toBe("admin's chroot\n");
    });

    it("an administrator's link to the same source is used, and left in place by delete", async () => {
        const { symlinkSync, mkdirSync, lstatSync } = await import("node:fs");
        mkdirSync(host.path("/srv/ltsp"), { recursive: true });
        symlinkSync("/srv/vm/a", host.path("/srv/ltsp/thin"));
        const outs = (await provider.create(await checked({ source: { path: "/srv/vm/a" } }))).outs;
        expect(outs.created).not.toContain("/srv/ltsp/thin");
        await provider.delete!("id", outs);
        expect(lstatSync(host.path("/srv/ltsp/thin")).isSymbolicLink()).toBe(true);
        expect(host.exists("/srv/ltsp/images/thin.img")).toBe(false);
    });

    it("refuses paths that leave the image and names that are LTSP's own directories", async () => {
        const reasons = async (inputs: Record<string, unknown>) =>
            ((await provider.check!({}, { connection, name: "thin", ...inputs })).failures ?? []).map((f) => f.reason).join("\n");
        expect(
            await reasons({ source: { debootstrap: { architecture: "amd64", extraFiles: { "/etc/../../root/.ssh/authorized_keys": "x" } } } }),
        ).toContain("may not contain . or .. segments");
        expect(await reasons({ name: "images", source: { serverRoot: true } })).toContain('"images" is LTSP\'s own directory');
    });

    // Issue 17, 2: an image records its owner; a netboot-made image is not every stack's.
    it("an image another stack built is refused by name; a renamed resource of the same stack takes it over and the old delete leaves it", async () => {
        const school = "netboot/school: ChrootImage thin";
        const outs = (await provider.create(await checked({ source: { path: "/srv/vm/a" }, managedBy: school }))).outs;
        expect(host.text("/var/lib/netboot/owned/image/thin/.owner")).toBe(`${school}\n`);
        const before = host.text("/var/log/netboot/mutations.log");

        const render = await checked({ source: { path: "/srv/vm/b" }, managedBy: "netboot/render: ChrootImage thin" });
        await expect(provider.create(render)).rejects.toThrow(
            `${host.label}: image thin belongs to ${school}; netboot/render may not change what another stack manages, so nothing was changed`,
        );
        expect(host.text("/var/log/netboot/mutations.log")).toBe(before);

        const renamed = (await provider.create(await checked({ source: { path: "/srv/vm/a" }, managedBy: "netboot/school: ChrootImage thin-image" })))
            .outs;
        expect(host.text("/var/lib/netboot/owned/image/thin/.owner")).toBe("netboot/school: ChrootImage thin-image\n");
        await provider.delete!("id", outs);
        expect(host.exists("/srv/ltsp/images/thin.img")).toBe(true);
        await provider.delete!("id", renamed);
        expect(host.exists("/srv/ltsp/images/thin.img")).toBe(false);
        expect(host.exists("/var/lib/netboot/owned/image/thin/.owner")).toBe(false);
    });
});
