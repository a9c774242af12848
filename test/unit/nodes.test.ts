import { describe, expect, it } from "vitest";
import { parseSubnet } from "../../lib/core/fields";
import { checkNodeSet, normalizeMac, validateNode } from "../../lib/core/node";

const node = (overrides: Record<string, unknown> = {}) => ({
    nodeName: "pc01",
    mac: "52:54:00:00:00:01",
    hostname: "pc01",
    image: "thin",
    ...overrides,
});

function reasons(inputs: Record<string, unknown>): string[] {
    const result = validateNode(inputs);
    return result.ok ? [] : result.failures.map((f) => f.reason);
}

describe("NodeAssignment", () => {
    it.each([
        ["52:54:00:AB:CD:EF", "52:54:00:ab:cd:ef"],
        ["52-54-00-ab-cd-ef", "52:54:00:ab:cd:ef"],
        ["5254.00ab.cdef", "52:54:00:ab:cd:ef"],
        ["525400ABCDEF", "52:54:00:ab:cd:ef"],
    ])("normalizes %s", (input, expected) => {
        expect(normalizeMac(input)).toBe(expected);
        const result = validateNode(node({ mac: input }));
        expect(result.ok && result.spec.mac).toBe(expected);
    });

    it.each([
        [{ mac: "52:54:00:zz:00:01" }, 'mac: "52:54:00:zz:00:01" is not a MAC address'],
        [{ mac: "01:00:5e:00:00:01" }, 'mac: "01:00:5e:00:00:01" is a multicast or broadcast address'],
        [{ hostname: "pc_01" }, 'hostname: "pc_01" is not a valid DNS label'],
        [{ image: "Thin Image" }, 'image: "Thin Image" is not an image name'],
        [{ kernelParameters: "quiet`reboot`" }, "kernelParameters: \"quiet`reboot`\" contains '`'"],
        [{ ltspConf: { MOSIX: "N\nPOST_INIT_X=x" } }, 'ltspConf.MOSIX: "N\\nPOST_INIT_X=x" contains a newline'],
        [{ ip: "10.0.0.256" }, 'ip: "10.0.0.256" is not an IPv4 address'],
    ])("rejects %j", (overrides, expected) => {
        const all = reasons(node(overrides));
        expect(
            all.some((r) => r.startsWith(expected)),
            all.join("\n"),
        ).toBe(true);
    });

    it("finds duplicates across nodes, naming both, and reservations in the wrong place", () => {
        const specs = [
            node(),
            node({ nodeName: "pc02", hostname: "PC01", mac: "52:54:00:00:00:02", ip: "10.0.0.150" }),
            node({ nodeName: "pc03", hostname: "pc03", mac: "52-54-00-00-00-01", ip: "10.1.0.5" }),
        ].map((n) => {
            const r = validateNode(n);
            if (!r.ok) throw new Error("bad fixture");
            return r.spec;
        });
        const failures = checkNodeSet(specs, {
            field: "nodes",
            images: ["thin"],
            subnet: parseSubnet("10.0.0.1/24"),
            dynamicRange: ["10.0.0.100", "10.0.0.199"],
        });
        expect(failures.map((f) => f.reason)).toEqual([
            'nodes[1] (pc02).hostname: "pc01" is also the hostname of node pc01',
            'nodes[1] (pc02).ip: "10.0.0.150" is inside the dynamic range 10.0.0.100-10.0.0.199; a reservation must lie outside it',
            'nodes[2] (pc03).mac: "52:54:00:00:00:01" is also the mac of node pc01',
            'nodes[2] (pc03).ip: "10.1.0.5" is outside the subnet 10.0.0.0/24',
        ]);
    });
});
