import { describe, expect, it } from "vitest";
import { linuxBackend } from "../../lib/dhcp/linuxBackends";
import { validateScope } from "../../lib/dhcp/scopeSpec";
import { validScopeInputs } from "./helpers";

function scope(kind: string, overrides: Record<string, unknown> = {}) {
    const result = validateScope(
        validScopeInputs({
            kind,
            router: "10.213.1.254",
            boot: { nextServer: "10.213.1.1", rootPath: "/srv/ltsp/thin" },
            nodes: [{ nodeName: "n1", mac: "52:54:00:00:00:09", hostname: "n1", image: "thin", ip: "10.213.1.50" }],
            ...overrides,
        }),
    );
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

describe("Linux DHCP backends", () => {
    it("dnsmasq: range, reservation, loop-safe iPXE split, checked by dnsmasq --test", () => {
        const [file] = linuxBackend(scope("dnsmasq"), "t").files;
        expect(file.path).toBe("/etc/dnsmasq.d/netboot-scope-lab.conf");
        expect(file.content).toContain("dhcp-host=52:54:00:00:00:09,10.213.1.50,n1");
        // The iPXE split is LTSP's (option 175 with the features its menu needs), as in LtspServer's dnsmasq.
        expect(file.content).toContain("tag-if=set:nb-lab-ipxe,tag:nb-lab-ipxe-http,tag:nb-lab-ipxe-menu,tag:nb-lab-ipxe-efi");
        expect(file.content).toContain("dhcp-boot=tag:nb-lab-ipxe,ltsp/ltsp.ipxe,,10.213.1.1");
        expect(file.content).toContain("dhcp-option=tag:nb-lab,option:root-path,/srv/ltsp/thin");
        expect(file.validate).toBe('dnsmasq --test --conf-file="$1"');
    });

    it("ISC dhcpd: subnet, host block, iPXE/UEFI/BIOS filename choice, checked by dhcpd -t", () => {
        const backend = linuxBackend(scope("isc"), "t");
        const conf = backend.files.find((f) => f.path === "/etc/dhcp/dhcpd.conf")!;
        expect(conf.content).toContain("end-of-life");
        expect(conf.content).toContain("subnet 10.213.1.0 netmask 255.255.255.0 {");
        expect(conf.content).toContain("host n1 {\n  hardware ethernet 52:54:00:00:00:09;\n  fixed-address 10.213.1.50;");
        expect(conf.content).toContain('if exists ipxe-features or (exists user-class and option user-class = "iPXE") {');
        expect(conf.validate).toBe('dhcpd -4 -t -cf "$1"');
        expect(backend.files.find((f) => f.path === "/etc/default/isc-dhcp-server")!.content).toContain('INTERFACESv4="pxebr0"');
    });

    it("Kea: JSON (with comments) that parses, classes and reservations, checked by kea-dhcp4 -t", () => {
        const [file] = linuxBackend(scope("kea"), "t").files;
        const json = JSON.parse(file.content.replace(/^\s*\/\/.*$/gm, ""));
        const subnet = json.Dhcp4.subnet4[0];
        expect(subnet.pools[0].pool).toBe("10.213.1.100 - 10.213.1.199");
        expect(subnet.reservations).toEqual([{ "hw-address": "52:54:00:00:00:09", "ip-address": "10.213.1.50", hostname: "n1" }]);
        expect(subnet["option-data"]).toContainEqual({ name: "root-path", data: "/srv/ltsp/thin" });
        expect(json.Dhcp4["client-classes"].map((c: { name: string }) => c.name)).toEqual(["ipxe", "efi64", "bios"]);
        expect(file.validate).toBe('kea-dhcp4 -t "$1"');
    });

    it("rejects a reservation inside the dynamic range, a range outside the subnet, proxy mode off dnsmasq", () => {
        const bad = (kind: string, overrides: Record<string, unknown>) => {
            try {
                scope(kind, overrides);
                return "";
            } catch (err) {
                return (err as Error).message;
            }
        };
        expect(bad("kea", { nodes: [{ nodeName: "n1", mac: "52:54:00:00:00:09", hostname: "n1", image: "thin", ip: "10.213.1.120" }] })).toContain(
            'nodes[0] (n1).ip: "10.213.1.120" is inside the dynamic range 10.213.1.100-10.213.1.199',
        );
        expect(bad("isc", { rangeEnd: "10.213.2.10" })).toContain('rangeEnd: "10.213.2.10" is outside the subnet 10.213.1.0/24');
        expect(bad("isc", { mode: "proxy" })).toContain('mode: "proxy" is only supported by kind "dnsmasq"');
    });
});
