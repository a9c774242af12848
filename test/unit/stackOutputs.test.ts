import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { labSite } from "../../stacks/lab";
import { TEST_KEY, TEST_PIN } from "./helpers";

/**
 * Issue 18: the default stack's first `up` printed `warning: Undefined value (clonezilla) will not
 * show as a stack output`. The lab site's outputs, composed with mocked resources (no host), as the
 * dev stack's config gives them: every output has a value, and `clonezilla` is there only with a repository.
 */
describe("the lab site's stack outputs", () => {
    beforeAll(() => {
        pulumi.runtime.setMocks({ newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: () => ({}) }, "netboot", "dev");
    });
    const devConfig = {
        "netboot:site": "lab",
        "netboot:server": JSON.stringify({ host: "10.213.0.2", user: "root", hostKeyFingerprint: TEST_PIN }),
        "netboot:privateKey": TEST_KEY,
        "netboot:aptProxy": "http://10.213.0.1:3142",
        "netboot:lan": JSON.stringify({ interface: "pxebr0", address: "10.213.1.1/24" }),
        "netboot:dhcp": JSON.stringify({ mode: "full", rangeStart: "10.213.1.100", rangeEnd: "10.213.1.199", leaseTime: "1h" }),
        "netboot:boot": JSON.stringify({ rootTransport: "nbd", http: true }),
        "netboot:images": JSON.stringify([{ name: "thin", source: { debootstrap: { architecture: "amd64", initramfsModules: "netboot" } } }]),
        "netboot:nodes": JSON.stringify([{ hostname: "pc01", mac: "52:54:00:00:01:01", image: "thin", role: "thin-client" }]),
    };
    const outputsOf = (config: Record<string, string>) => {
        pulumi.runtime.setAllConfig(config, ["netboot:privateKey"]);
        return labSite(new pulumi.Config("netboot"));
    };

    it("without netboot:clonezilla: no clonezilla output, and no output is undefined", () => {
        const outputs = outputsOf(devConfig);
        expect(Object.keys(outputs).sort()).toEqual(["dhcpScopes", "images", "nodes", "server"]);
        for (const [name, value] of Object.entries(outputs)) expect(value, name).not.toBeUndefined();
    });

    it("with netboot:clonezilla: the clonezilla output", () => {
        const clonezilla = { clientNetworks: ["10.213.1.0/24"], server: "10.213.1.1", entries: [{ action: "save", image: "pc-lab" }] };
        const outputs = outputsOf({ ...devConfig, "netboot:clonezilla": JSON.stringify(clonezilla) }) as Record<string, unknown>;
        expect(outputs.clonezilla).toEqual(expect.objectContaining({ keyFingerprint: expect.anything(), menuEntries: expect.anything() }));
    });
});
