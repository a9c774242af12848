import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Inventory, inventoryFromState } from "../../lib/monitoring/inventory";
import { csvField, fileSdJson, fileSdTargets, inventoryCsv, inventoryJson } from "../../lib/monitoring/renderers";

const state = JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "preview", "state-server-base.json"), "utf8"));

/**
 * The expected values are written by hand: file_sd from the Prometheus documentation
 * (<file_sd_config>: a JSON list of {"targets": ["host:port"], "labels": {name: value}}, label
 * names [a-zA-Z_][a-zA-Z0-9_]*), CSV from RFC 4180 (CRLF line ends; a field with a comma, a quote
 * or a line break is quoted and its quotes doubled), the hosts from the site in
 * test/fixtures/preview/scratch/site-create-known.json.
 */
describe("monitoring outputs", () => {
    const inventory = inventoryFromState("lab", state);

    it("the inventory of a real state: servers, application servers, nodes", () => {
        expect(inventory).toEqual({
            site: "lab",
            hosts: [
                { hostname: "ltsp-server", ip: "10.213.0.2", role: "ltsp-server" },
                { hostname: "10.213.1.11", ip: "10.213.1.11", role: "app-server" },
                { hostname: "10.213.1.12", ip: "10.213.1.12", role: "app-server" },
                { hostname: "pc01", mac: "52:54:00:00:01:01", ip: "10.213.1.21", image: "thin", role: "thin-client", server: "ltsp-server" },
                { hostname: "pc02", mac: "52:54:00:00:01:02", ip: "10.213.1.22", image: "thin", role: "thin-client", server: "ltsp-server" },
                { hostname: "pc03", mac: "52:54:00:00:01:03", ip: "10.213.1.23", image: "thin", role: "thin-client", server: "ltsp-server" },
                { hostname: "pc07", mac: "52:54:00:00:01:07", ip: "10.213.1.27", image: "thin", role: "thin-client", server: "ltsp-server" },
                { hostname: "rn01", mac: "52:54:00:00:02:01", ip: "10.213.1.51", image: "render", role: "render-node", server: "ltsp-server" },
                { hostname: "rn02", mac: "52:54:00:00:02:02", ip: "10.213.1.52", image: "render", role: "render-node", server: "ltsp-server" },
            ],
        });
    });

    it("Prometheus file_sd: one target group per host with its labels", () => {
        const groups = fileSdTargets(inventory);
        expect(groups[0]).toEqual({ targets: ["10.213.0.2:9100"], labels: { site: "lab", role: "ltsp-server", hostname: "ltsp-server" } });
        expect(groups[1]).toEqual({ targets: ["10.213.1.11:9100"], labels: { site: "lab", role: "app-server", hostname: "10.213.1.11" } });
        expect(groups[3]).toEqual({
            targets: ["10.213.1.21:9100"],
            labels: { site: "lab", role: "thin-client", hostname: "pc01", image: "thin", mac: "52:54:00:00:01:01", server: "ltsp-server" },
        });
        expect(groups).toHaveLength(9);
        for (const g of groups) for (const name of Object.keys(g.labels)) expect(name).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    });

    it("file_sd JSON text, another exporter port, a host without an address by name", () => {
        const small: Inventory = { site: "school", hosts: [{ hostname: "pc01", mac: "52:54:00:00:01:01", image: "thin", role: "node" }] };
        expect(fileSdJson(small, { port: 9182 })).toBe(
            `[
  {
    "targets": [
      "pc01:9182"
    ],
    "labels": {
      "site": "school",
      "role": "node",
      "hostname": "pc01",
      "image": "thin",
      "mac": "52:54:00:00:01:01"
    }
  }
]
`,
        );
    });

    it("CSV as RFC 4180 has it", () => {
        expect(csvField("plain")).toBe("plain");
        expect(csvField("a,b")).toBe('"a,b"');
        expect(csvField('say "hi"')).toBe('"say ""hi"""');
        expect(csvField("two\nlines")).toBe('"two\nlines"');
        expect(csvField("cr\r")).toBe('"cr\r"');
        const odd: Inventory = {
            site: "x",
            hosts: [{ hostname: "pc01", mac: "52:54:00:00:01:01", ip: "10.0.0.1", image: "thin", role: 'lab, "room 2"', server: "s1" }],
        };
        expect(inventoryCsv(odd)).toBe('hostname,mac,ip,image,role,server\r\npc01,52:54:00:00:01:01,10.0.0.1,thin,"lab, ""room 2""",s1\r\n');
        expect(inventoryCsv(inventory).split("\r\n").slice(0, 3)).toEqual([
            "hostname,mac,ip,image,role,server",
            "ltsp-server,,10.213.0.2,,ltsp-server,",
            "10.213.1.11,,10.213.1.11,,app-server,",
        ]);
    });

    it("JSON inventory: every column on every host, null where unknown", () => {
        const small: Inventory = { site: "x", hosts: [{ hostname: "ltsp", ip: "10.0.0.2", role: "ltsp-server" }] };
        expect(JSON.parse(inventoryJson(small))).toEqual({
            site: "x",
            hosts: [{ hostname: "ltsp", mac: null, ip: "10.0.0.2", image: null, role: "ltsp-server", server: null }],
        });
    });
});
