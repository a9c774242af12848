import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InventoryError, type InventoryNode, loadInventory, parseInventory } from "../../lib/inventory";
import { generateInventory } from "../../lib/inventory/generate";

const FIXTURES = join(__dirname, "..", "fixtures", "inventory");
const fixture = (name: string) => join(FIXTURES, name);

/** The problems an inventory has, each message with the fixture directory cut off. */
function problems(name: string, opts: { images?: string[] } = {}): string[] {
    try {
        loadInventory(fixture(name), opts);
    } catch (error) {
        expect(error).toBeInstanceOf(InventoryError);
        return (error as InventoryError).issues.map((i) => i.message.replace(`${FIXTURES}/`, ""));
    }
    throw new Error(`${name} loaded without problems`);
}

// lab.csv and lab.yaml describe the same four clients; these are the records written by hand
// from those files: MACs in the README's normal form (52:54:00:ab:cd:ef, whatever the notation
// in the file), unset fields absent, role "" and ltspConf {} by default (the NodeAssignment's
// own defaults), ltsp.conf values as text.
const LAB: InventoryNode[] = [
    { mac: "52:54:00:00:01:01", hostname: "pc01", image: "thin", role: "thin-client", ltspConf: {} },
    {
        mac: "52:54:00:00:01:02",
        hostname: "pc02",
        image: "thin",
        role: "thin-client",
        ip: "10.213.1.12",
        kernelParameters: "quiet splash",
        menuTimeout: 5000,
        ltspConf: {},
    },
    {
        mac: "52:54:00:00:01:03",
        hostname: "render03",
        image: "fat",
        role: "render-node",
        ip: "10.213.1.13",
        kernelParameters: "quiet nomodeset,video=1024x768",
        menuTimeout: -1,
        ltspConf: { MOSIX: "N", LOCAL_SWAP: "1" },
    },
    { mac: "52:54:00:00:01:04", hostname: "pc04", image: "thin", role: "", menuTimeout: 0, ltspConf: {} },
];

describe("inventory files", () => {
    it.each(["lab.csv", "lab.yaml"])("%s loads into the NodeAssignments' inputs", (name) => {
        expect(loadInventory(fixture(name))).toEqual(LAB);
    });

    it("checks images against the ones the stack serves", () => {
        expect(loadInventory(fixture("lab.csv"), { images: ["thin", "fat"] })).toHaveLength(4);
        expect(problems("lab.csv", { images: ["thin"] })).toEqual([
            'lab.csv line 5, column 3 (image): "fat" is not an image of this stack (known: thin)',
        ]);
    });

    it("refuses unknown, misspelt and repeated CSV columns, naming each", () => {
        expect(problems("bad-header.csv")).toEqual([
            'bad-header.csv line 1, header: has no column "hostname" (required)',
            'bad-header.csv line 1, column 2 (hostnme): "hostnme" is not a column of an inventory (known: mac, hostname, image, role, ip, kernelParameters, menuTimeout, ltsp.KEY for ltsp.conf)',
            'bad-header.csv line 1, column 4 (ltsp.mosix): "mosix" is not an ltsp.conf parameter name (capital letters, digits and _, starting with a letter)',
            'bad-header.csv line 1, column 6 (role): "role" repeats column 5',
            // ltsp.conf runs commands from POST_<APPLET>_<NAME> (ltsp.conf(5)); HOSTNAME is the hostname column's.
            'bad-header.csv line 1, column 7 (ltsp.POST_INIT_X): "POST_INIT_X" runs as a command on the clients: set it in `commands`, not as a plain parameter',
            'bad-header.csv line 1, column 8 (ltsp.HOSTNAME): "HOSTNAME" has a field of its own on the node (hostname, image, kernelParameters, menuTimeout)',
        ]);
    });

    it("names the line, column and value of every bad CSV value, and both lines of a repeat", () => {
        // Line numbers count the comment on line 1: the header is line 2.
        const found = problems("bad-values.csv");
        const shell = "ltsp.conf is shell code on every client";
        expect(found).toEqual([
            expect.stringMatching(/^bad-values.csv line 4, column 1 \(mac\): "52:54:00:zz:02:02" is not a MAC address/),
            "bad-values.csv line 5, column 3 (image): is missing; it is required",
            'bad-values.csv line 5, column 4 (ip): "10.213.1.300" is not an IPv4 address (like 192.168.67.1)',
            'bad-values.csv line 5, column 5 (menuTimeout): "soon" is not a whole number of milliseconds (0 waits forever, -1 boots without a menu)',
            'bad-values.csv line 6, column 2 (hostname): "PC01" is also the hostname of line 3',
            'bad-values.csv line 6, column 4 (ip): "10.213.1.21" is also the ip of line 3',
            expect.stringMatching(new RegExp(`^bad-values.csv line 6, column 6 \\(kernelParameters\\): "quiet\`reboot\`" contains '\`'; ${shell}`)),
            'bad-values.csv line 7, column 1 (mac): "52-54-00-00-02-01" is also the mac of line 3',
            expect.stringMatching(/^bad-values.csv line 7, column 3 \(image\): "Thin" is not an image name/),
            expect.stringMatching(new RegExp(`^bad-values.csv line 7, column 7 \\(ltsp.MOSIX\\): "N;reboot" contains ';'; ${shell}`)),
            'bad-values.csv line 8, row: "52:54:00:00:02:06,pc06,thin,,,,," has 8 cells; the header has 7',
        ]);
    });

    it("names the line, entry, field and value of every bad YAML entry", () => {
        expect(problems("bad-entries.yaml")).toEqual([
            'bad-entries.yaml line 5 (nodes[0]), kernelParams: "kernelParams" is not a field of a client (known: mac, hostname, image, role, ip, kernelParameters, menuTimeout, ltspConf)',
            'bad-entries.yaml line 6 (nodes[1]), mac: "52:54:00:00:03:01" is also the mac of line 2 (nodes[0])',
            'bad-entries.yaml line 10 (nodes[1]), ltspConf.mosix: "mosix" is not an ltsp.conf parameter name (capital letters, digits and _, starting with a letter)',
            "bad-entries.yaml line 12 (nodes[2]), mac: is missing; it is required",
            'bad-entries.yaml line 14 (nodes[2]), menuTimeout: "5000" has the wrong type (expected number, received string)',
            `bad-entries.yaml line 15 (nodes[3]), nodes[3]: "just a string" must be a mapping of a client's fields`,
            'bad-entries.yaml line 16, extra: "extra" is not a key of an inventory (known: nodes)',
        ]);
    });

    it("reports files that do not parse at the line of the problem", () => {
        // broken.yaml repeats `hostname` on line 4; broken.csv opens a quote on line 2 that never closes
        // (csv-parse reports the line where it gave up: the last one).
        expect(problems("broken.yaml")).toEqual([expect.stringMatching(/^broken.yaml line 4, syntax: is not valid YAML: Map keys must be unique/)]);
        expect(problems("broken.csv")).toEqual([expect.stringMatching(/^broken.csv line 3, syntax: is not valid CSV: Quote Not Closed/)]);
    });

    it("takes the format from the file name and says so when it cannot", () => {
        expect(() => parseInventory("nodes.txt", "mac,hostname,image\n")).toThrow("inventory nodes.txt: the name must end in .csv, .yaml or .yml");
        expect(parseInventory("empty.csv", "mac,hostname,image\n")).toEqual([]);
        expect(() => parseInventory("none.csv", "")).toThrow("none.csv line 1, header: has no header row");
        expect(() => parseInventory("list.yaml", "- mac: 52:54:00:00:00:01\n")).toThrow(
            "list.yaml line 1, document: must be a mapping with the key `nodes`",
        );
    });

    it("lists every problem of a large file in its error, the first fifty in the message", () => {
        const rows = Array.from({ length: 60 }, (_, i) => `52:54:00:00:00:${(i + 1).toString(16).padStart(2, "0")},pc${i},Thin`);
        let error: InventoryError | undefined;
        try {
            parseInventory("many.csv", ["mac,hostname,image", ...rows].join("\n"));
        } catch (e) {
            error = e as InventoryError;
        }
        expect(error?.issues).toHaveLength(60);
        expect(error?.message).toMatch(/^inventory many.csv: 60 problems\n/);
        expect(error?.message).toMatch(/\n {2}\.\.\. and 10 more$/);
    });
});

describe("generated inventories (scripts/gen-inventory)", () => {
    it.each(["csv", "yaml"] as const)("1400 clients in %s load, each unique, images round-robin", (format) => {
        const text = generateInventory({
            count: 1400,
            format,
            images: ["thin", "fat"],
            subnet: "10.20.0.0/16",
            ipStart: "10.20.1.1",
            ltspEvery: 100,
        });
        const nodes = parseInventory(`site.${format}`, text, { images: ["thin", "fat"] });
        expect(nodes).toHaveLength(1400);
        // Client n (1-based) has MAC 52:54:00 + n as three bytes, address ipStart + n - 1: 1400 = 0x000578,
        // 10.20.1.1 + 1399 = 10.20.1.1 + 5*256 + 119 = 10.20.6.120. Four digits in the host names (1400 has four).
        expect(nodes[0]).toEqual({ mac: "52:54:00:00:00:01", hostname: "pc0001", image: "thin", ip: "10.20.1.1", role: "", ltspConf: {} });
        expect(nodes[1399]).toEqual({
            mac: "52:54:00:00:05:78",
            hostname: "pc1400",
            image: "fat",
            ip: "10.20.6.120",
            role: "",
            ltspConf: { MOSIX: "N" },
        });
        expect(nodes.filter((n) => n.ltspConf.MOSIX === "N")).toHaveLength(14);
    });

    it("refuses addresses that do not fit the subnet", () => {
        expect(() => generateInventory({ count: 300, format: "csv", images: ["thin"], subnet: "10.0.0.0/24", ipStart: "10.0.0.10" })).toThrow(
            "300 addresses from 10.0.0.10 do not fit in 10.0.0.0/24",
        );
    });
});
