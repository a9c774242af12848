import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { appServerProvider } from "../../resources/appServer";
import { chrootImageProvider } from "../../resources/chrootImage";
import { clonezillaRepositoryProvider } from "../../resources/clonezillaRepository";
import { dhcpScopeProvider } from "../../resources/dhcpScope";
import { ltspServerProvider } from "../../resources/ltspServer";
import { slurmControllerProvider } from "../../resources/slurmController";

/**
 * Issue 17, 1: a resource on one machine reached another way (its address changed to a DNS name
 * of the same machine, another port or user) is the same host: the pinned host key says which
 * machine it is. A replacement there (create the new, then delete the old) would have the old
 * resource's delete undo on that very machine what the new one just made.
 */
const PIN = "SHA256:qT8dV0mYpXv6nq5m9cVbm2W5qv4J1sK1kq8rD1mQ8sE";
const OTHER_PIN = "SHA256:Zr3cF6pqD0o0Kx4x3bK1nJxJ8o3m1b7x0m1d3q9Vw2c";
const byAddress = { host: "10.213.0.2", port: 22, user: "root", hostKeyFingerprint: PIN, sudo: false };

const providers = {
    LtspServer: ltspServerProvider,
    ChrootImage: chrootImageProvider,
    AppServer: appServerProvider,
    SlurmController: slurmControllerProvider,
    ClonezillaRepository: clonezillaRepositoryProvider,
    DhcpScope: dhcpScopeProvider,
};

describe.each(Object.entries(providers))("%s", (_kind, provider) => {
    const olds = { name: "thin", kind: "dnsmasq", connection: byAddress };

    it.each([
        ["a DNS name of the same machine", { host: "ltsp-lab.example.org" }],
        ["another port", { port: 2222 }],
        ["another user", { user: "admin", sudo: true }],
    ])("reached by %s: an update, no replacement", async (_what, change) => {
        const diff = await provider.diff!("id", olds, { ...olds, connection: { ...byAddress, ...change } });
        expect(diff.changes).toBe(true);
        expect(diff.replaces ?? []).toEqual([]);
    });

    it("another machine (another pinned host key): replaced", async () => {
        const diff = await provider.diff!("id", olds, { ...olds, connection: { ...byAddress, host: "10.213.0.3", hostKeyFingerprint: OTHER_PIN } });
        expect(diff.replaces).toContain("connection.hostKeyFingerprint");
    });
});

describe("a real replacement (another machine) says at preview what the old one's delete destroys, by name", () => {
    it("AppServer: its pupils' accounts and sessions, its files; ChrootImage: the paths it made", async () => {
        const info = vi.spyOn(pulumi.log, "info").mockResolvedValue(undefined);
        try {
            const moved = { ...byAddress, host: "10.213.0.3", hostKeyFingerprint: OTHER_PIN };
            const app = {
                managedBy: "netboot/school: AppServer app1",
                connection: byAddress,
                createdUsers: ["pupil01", "pupil02"],
                removeHomesOnDelete: false,
                managedFiles: { "/etc/ssh/sshd_config.d/netboot.conf": { sha256: "x", backup: null } },
            };
            await appServerProvider.diff!("id", app, { ...app, connection: moved });
            const image = { name: "thin", connection: byAddress, created: ["/srv/ltsp/thin", "/srv/ltsp/images/thin.img"] };
            await chrootImageProvider.diff!("id", image, { ...image, connection: moved });
            expect(info.mock.calls.map((c) => c[0])).toEqual([
                "netboot/school: AppServer app1: replaced, another machine (another pinned host key): built on 10.213.0.3, then the old one's delete on " +
                    "10.213.0.2 removes the accounts pupil01, pupil02 and ends their sessions (homes kept); puts back or removes /etc/ssh/sshd_config.d/netboot.conf",
                "ChrootImage thin: replaced, another machine (another pinned host key): built on 10.213.0.3, then the old one's delete on 10.213.0.2 " +
                    "removes /srv/ltsp/thin, /srv/ltsp/images/thin.img",
            ]);
        } finally {
            info.mockRestore();
        }
    });
});
