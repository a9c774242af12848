import { describe, expect, it } from "vitest";
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
