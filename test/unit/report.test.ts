import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RESOURCE_KINDS } from "../../lib/core/resourceKinds";
import { renderServerFiles } from "../../lib/ltsp/serverPlan";
import { validateLtspServer } from "../../lib/ltsp/serverSpec";
import { clientImpact } from "../../lib/report/impact";
import { changedSections } from "../../lib/report/ltspConfText";
import { GITHUB_COMMENT_LIMIT, renderReport } from "../../lib/report/markdown";
import { appServerMoves, describeAppServerMove, describeMove, nodeMoves } from "../../lib/report/nodes";
import { kindOf, mergeState, parsePreview } from "../../lib/report/preview";
import { validServerInputs } from "./helpers";

const FIXTURES = join(__dirname, "..", "fixtures", "preview");
const json = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));
/** Golden reports are written by hand (see test/fixtures/preview/README.md); a missing one fails here. */
const golden = (name: string) => readFileSync(join(FIXTURES, "golden", name), "utf8");

describe("the report of real previews (golden files written by hand)", () => {
    it("a creation preview of a site: server, dnsmasq proxy and Windows scopes, images, nodes, every file added", () => {
        expect(renderReport(parsePreview(json("preview-create.json")), { title: "create" })).toBe(golden("create.md"));
    });

    it("a nodes-only update (one moved, one added, one removed) with the state from before", () => {
        const preview = mergeState(parsePreview(json("preview-nodes-update.json")), json("state-nodes-base.json"));
        expect(renderReport(preview, { title: "nodes" })).toBe(golden("nodes-update.with-state.md"));
    });

    it("a server, scopes, an image and nodes updated: file diffs, reboots, DHCP, topology", () => {
        const preview = mergeState(parsePreview(json("preview-server-update.json")), json("state-server-base.json"));
        expect(renderReport(preview, { title: "server" })).toBe(golden("server-update.with-state.md"));
    });
});

describe("reading previews", () => {
    it("takes the kind from the URN type of our dynamic resources", () => {
        const kinds = parsePreview(json("preview-create.json")).changes.map((c) => `${c.kind} ${c.name}`);
        expect(kinds).toEqual([
            "LtspServer ltsp-server",
            "DhcpScope dhcp-lab",
            "DhcpScope dhcp-office",
            "ChrootImage render",
            "ChrootImage thin",
            "NodeAssignment pc01",
            "NodeAssignment pc02",
            "NodeAssignment pc03",
            "NodeAssignment pc07",
            "NodeAssignment rn01",
            "NodeAssignment rn02",
        ]);
    });

    it("knows every resource this package defines: each class in resources/ is a kind of its own", () => {
        const dir = join(__dirname, "..", "..", "resources");
        const classes = readdirSync(dir)
            .filter((f) => f.endsWith(".ts"))
            .map((f) => /export class (\w+) extends LazyDynamicResource/.exec(readFileSync(join(dir, f), "utf8"))?.[1]);
        expect(classes).toHaveLength(8);
        expect([...RESOURCE_KINDS].sort()).toEqual([...classes].sort());
        for (const kind of classes) expect(kindOf(`pulumi-nodejs:dynamic/netboot:${kind}`, {})).toBe(kind);
    });

    it("recognises states written before the type hints by their fields", () => {
        const legacy = "pulumi-nodejs:dynamic:Resource";
        expect(kindOf(legacy, { nodeName: "pc01", mac: "52:54:00:00:01:01" })).toBe("NodeAssignment");
        expect(kindOf(legacy, { name: "thin", source: {}, buildHash: "x" })).toBe("ChrootImage");
        expect(kindOf(legacy, { kind: "dnsmasq", subnet: "10.0.0.0/24", boot: {} })).toBe("DhcpScope");
        expect(kindOf(legacy, { lan: {}, rendered: {} })).toBe("LtspServer");
        expect(kindOf("aws:s3/bucket:Bucket", { lan: {} })).toBe("other");
    });

    it("folds a replacement's steps into one change and reports a failed preview", () => {
        const urn = "urn:pulumi:dev::netboot::pulumi-nodejs:dynamic/netboot:DhcpScope::dhcp-lab";
        const preview = parsePreview({
            steps: [
                {
                    op: "delete-replaced",
                    urn,
                    oldState: { type: "pulumi-nodejs:dynamic/netboot:DhcpScope", inputs: { kind: "isc" } },
                    replaceReasons: ["kind"],
                },
                {
                    op: "create-replacement",
                    urn,
                    newState: { type: "pulumi-nodejs:dynamic/netboot:DhcpScope", inputs: { kind: "kea" } },
                    replaceReasons: ["kind"],
                },
                { op: "replace", urn, oldState: { inputs: { kind: "isc" } }, newState: { inputs: { kind: "kea" } }, replaceReasons: ["kind"] },
            ],
            diagnostics: [{ severity: "error", message: '\u001b[31mnodes[1].ip: "10.0.0.5" is inside the dynamic range\u001b[0m\n' }],
        });
        expect(preview.changes).toHaveLength(1);
        expect(preview.changes[0]).toMatchObject({
            op: "replace",
            kind: "DhcpScope",
            before: { kind: "isc" },
            after: { kind: "kea" },
            replaceReasons: ["kind"],
        });
        const report = renderReport(preview);
        expect(report).toContain("**The preview failed.**");
        expect(report).toContain('nodes[1].ip: "10.0.0.5" is inside the dynamic range');
        expect(report).toContain("**1 to replace**");
    });
});

describe("files not known at preview", () => {
    it("a server whose inputs still hold unknowns has no rendered files: the report says so", () => {
        const urn = "urn:pulumi:dev::netboot::pulumi-nodejs:dynamic/netboot:LtspServer::ltsp";
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const preview = parsePreview({ steps: [{ op: "create", urn, newState: { inputs: { lan: { address: "10.0.0.1/24" }, nodes: [unknown] } } }] });
        expect(renderReport(preview)).toContain(
            "Not known at preview: the files of LtspServer ltsp depend on values Pulumi learns only during `up` (e.g. a node whose optional fields are unset); `pulumi up` shows them.",
        );
    });
});

describe("client impact rules", () => {
    it("ltsp.conf sections that differ, by name", () => {
        const before = "# x\n[server]\nMENU_TIMEOUT=5000\n\n[clients]\nA=1\n\n[52:54:00:00:01:01]\nHOSTNAME=pc01\n";
        const after = "# y\n[server]\nMENU_TIMEOUT=5000\n\n[clients]\nA=2\n\n[52:54:00:00:01:02]\nHOSTNAME=pc02\n";
        expect(changedSections(before, after).sort()).toEqual(["52:54:00:00:01:01", "52:54:00:00:01:02", "clients"]);
    });

    it("a role or an address change reboots nobody; a reservation reaches the client at its next DHCP exchange", () => {
        const urn = "urn:pulumi:dev::netboot::pulumi-nodejs:dynamic/netboot:NodeAssignment::pc01";
        const node = { nodeName: "pc01", hostname: "pc01", mac: "52:54:00:00:01:01", image: "thin", ip: "10.0.0.21", role: "a", ltspConf: {} };
        const impact = clientImpact(
            parsePreview({
                steps: [{ op: "update", urn, oldState: { inputs: node }, newState: { inputs: { ...node, ip: "10.0.0.22", role: "b" } } }],
            }).changes,
        );
        expect(impact.mustReboot).toEqual([]);
        expect(impact.nextDhcp).toEqual([{ reason: "its reservation changed (IP 10.0.0.21 → 10.0.0.22)", hostnames: ["pc01"] }]);
    });
});

/**
 * A 1400-node change built from the shape of the real nodes fixture: every node a copy of the real
 * pc07 step with its own MAC, host name and address; the server's ltsp.conf rendered by the real
 * renderer for the nodes before and after.
 */
function largeChange(imageChanges = 1303) {
    const real = json("preview-nodes-update.json");
    const template = real.steps.find((s: { urn: string; op: string }) => s.op === "update" && s.urn.endsWith("::pc07"));
    const node = (i: number, image: string, server: string) => ({
        ...template.oldState.inputs,
        nodeName: `pc${i}`,
        hostname: `pc${i}`,
        mac: `52:54:00:01:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`,
        ip: `10.213.${16 + (i >> 8)}.${(i & 255) + 0}`,
        image,
        ltspConf: { SERVER: server },
    });
    const urn = (i: number) => template.urn.replace(/::pc07$/, `::pc${i}`);
    const steps: unknown[] = [];
    const before: ReturnType<typeof node>[] = [];
    const after: ReturnType<typeof node>[] = [];
    for (let i = 1; i <= 1400; i++) {
        // `imageChanges` change image, 47 move to a new app server, 30 are new, 20 are removed, the rest stay
        const old = node(i, "thin", "10.213.1.11");
        if (i <= imageChanges) {
            const next = node(i, "render", "10.213.1.11");
            steps.push({
                op: "update",
                urn: urn(i),
                oldState: { ...template.oldState, urn: urn(i), inputs: old },
                newState: { ...template.newState, urn: urn(i), inputs: next },
            });
            before.push(old);
            after.push(next);
        } else if (i > 1303 && i <= 1350) {
            const next = node(i, "thin", "10.213.1.40");
            steps.push({
                op: "update",
                urn: urn(i),
                oldState: { ...template.oldState, urn: urn(i), inputs: old },
                newState: { ...template.newState, urn: urn(i), inputs: next },
            });
            before.push(old);
            after.push(next);
        } else if (i > 1350 && i <= 1380) {
            steps.push({ op: "create", urn: urn(i), newState: { ...template.newState, urn: urn(i), inputs: old } });
            after.push(old);
        } else if (i > 1380) {
            steps.push({ op: "delete", urn: urn(i), oldState: { ...template.oldState, urn: urn(i), inputs: old } });
            before.push(old);
        } else {
            before.push(old);
            after.push(old);
        }
    }
    const server = (nodes: typeof before) => {
        // A NodeAssignment's state holds unset fields as null; the server is given the node's args (unset = absent).
        const args = nodes.map((n) => Object.fromEntries(Object.entries(n).filter(([, v]) => v !== null)));
        const validated = validateLtspServer(
            validServerInputs({
                images: ["thin", "render"],
                nodes: args,
                dhcp: { mode: "none" },
                lan: { interface: "pxebr0", address: "10.213.0.1/16" },
            }),
        );
        if (!validated.ok) throw new Error(JSON.stringify(validated.failures.slice(0, 3)));
        const rendered = Object.fromEntries(renderServerFiles(validated.spec, "test: LtspServer ltsp-server").map((f) => [f.path, f.content]));
        return { type: "pulumi-nodejs:dynamic/netboot:LtspServer", inputs: { ...validated.spec, rendered } };
    };
    steps.push({
        op: "update",
        urn: template.urn.replace(/NodeAssignment::pc07$/, "LtspServer::ltsp-server"),
        oldState: server(before),
        newState: server(after),
    });
    return { steps, changeSummary: { update: imageChanges + 48, create: 30, delete: 20, same: 1303 - imageChanges } };
}

describe("a 1400-node change", () => {
    const report = renderReport(parsePreview(largeChange()), { title: "big" });

    it("stays under GitHub's comment limit; an ltsp.conf where nearly every section changed is summarised by sections", () => {
        expect(report.length).toBeLessThanOrEqual(60000);
        expect(report.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
        // 1303 image changes + 47 app server moves = 1350 changed [MAC] sections; 30 new nodes, 20 removed.
        expect(report).toContain(
            "More than 2000 changed lines: no line diff. ltsp.conf sections: 1350 changed (1350 client sections), 30 added, 20 removed.",
        );
    });

    it("in a 1400-node site where 200 nodes change, the ltsp.conf diff is cut with a count; a tighter budget cuts more and says so", () => {
        const preview = parsePreview(largeChange(200));
        const full = renderReport(preview);
        expect(full.length).toBeLessThanOrEqual(60000);
        expect(full).toMatch(/… \d+ more lines of this diff not shown\./);
        // 200 image changes + 47 app server moves + the server; 1303 - 200 nodes unchanged.
        expect(full).toContain("**30 to create, 248 to update, 20 to delete**, 1103 unchanged");
        const medium = renderReport(preview, { maxChars: 8000 });
        expect(medium.length).toBeLessThanOrEqual(8000);
        expect(medium).toMatch(/_Shortened to fit a comment \(65536 characters\): each diff cut to \d+ lines/);
        const tight = renderReport(preview, { maxChars: 4000 });
        expect(tight.length).toBeLessThanOrEqual(4000);
        // The server now renders two per-node files (ltsp.conf and the iPXE menu, branch boot): at 4000
        // characters even 18-line diffs of both do not fit, so the next cut (file diffs left out) applies.
        expect(tight).toMatch(
            /_Shortened to fit a comment \(65536 characters\): file diffs left out \(files listed with their line counts\); node lists cut to 10 names\./,
        );
        // Below what the cuts reach, the report is cut and what the cut left open is closed.
        const last = renderReport(preview, { maxChars: 2500 });
        expect(last.length).toBeLessThanOrEqual(2500);
        expect(last).toMatch(/_… report cut at 2500 characters; `pulumi preview --diff` shows everything._\n$/);
        expect(last.match(/<details/g)!.length).toBe(last.match(/<\/details>/g)!.length);
        expect(last.match(/^```/gm)?.length ?? 0).toBeLessThanOrEqual(2);
    });

    it("an option given as undefined (an unset CLI flag) keeps its default", () => {
        expect(
            renderReport(parsePreview(largeChange()), { title: "big", maxNodeLines: undefined, maxDiffLines: undefined, maxChars: undefined }),
        ).toBe(report);
    });

    it("caps the node lines with a count and names the app server move in one line", () => {
        expect(report).toContain("- app server 10.213.1.40 added: 47 clients move to it (47 from 10.213.1.11)");
        expect(report).toMatch(/- … and 13\d\d more/);
        expect(report).toMatch(/its own settings changed \(image thin → render\): 1303 clients \(pc1, pc2, .* and \d+ more\)/);
    });

    it("every section and code block is closed (long ones collapsed)", () => {
        expect(report.match(/<details/g)!.length).toBe(report.match(/<\/details>/g)!.length);
        expect(report.match(/^```/gm)!.length % 2).toBe(0);
        expect(report).toContain("<details><summary><b>Nodes</b></summary>");
    });
});

describe("app server moves", () => {
    it("a removed app server says where its clients go", () => {
        const urn = (n: string) => `urn:pulumi:dev::netboot::pulumi-nodejs:dynamic/netboot:NodeAssignment::${n}`;
        const node = (n: string, server: string) => ({
            nodeName: n,
            hostname: n,
            mac: `52:54:00:00:00:0${n.slice(-1)}`,
            image: "thin",
            role: "",
            ltspConf: { SERVER: server },
        });
        const steps = [
            { op: "update", urn: urn("pc1"), oldState: { inputs: node("pc1", "app02") }, newState: { inputs: node("pc1", "app01") } },
            { op: "update", urn: urn("pc2"), oldState: { inputs: node("pc2", "app02") }, newState: { inputs: node("pc2", "app03") } },
            { op: "update", urn: urn("pc3"), oldState: { inputs: node("pc3", "app02") }, newState: { inputs: node("pc3", "app03") } },
            { op: "same", urn: urn("pc4"), oldState: { inputs: node("pc4", "app01") }, newState: { inputs: node("pc4", "app01") } },
            { op: "same", urn: urn("pc5"), oldState: { inputs: node("pc5", "app03") }, newState: { inputs: node("pc5", "app03") } },
        ];
        expect(appServerMoves(parsePreview({ steps }).changes).map(describeAppServerMove)).toEqual([
            "app server app02 removed: 3 clients move off it (1 to app01, 2 to app03)",
        ]);
    });
});

describe("app server moves on a school site (BALANCE_PREFER, servers listed by the SessionBalance)", () => {
    const urn = (kind: string, n: string) => `urn:pulumi:dev::netboot::pulumi-nodejs:dynamic/netboot:${kind}::${n}`;
    const node = (n: string, prefer: string) => ({
        nodeName: n,
        hostname: n,
        mac: `52:54:00:00:00:${n.slice(-2)}`,
        image: "thin",
        role: "thin-client",
        ltspConf: { BALANCE_PREFER: prefer },
    });
    const servers = (n: number) => [1, 2, 3].slice(0, n).map((k) => ({ name: `app${k}`, address: `10.0.0.1${k}`, cores: 2 }));
    const balance = (n: number) => ({ balance: { policy: "fixed", servers: servers(n) } });

    it("adding app3: named by the balance's list, the moves and the new client counted; tc05's line names both servers", () => {
        const steps = [
            { op: "update", urn: urn("SessionBalance", "balance"), oldState: { inputs: balance(2) }, newState: { inputs: balance(3) } },
            {
                op: "update",
                urn: urn("NodeAssignment", "tc05"),
                oldState: { inputs: node("tc05", "10.0.0.11") },
                newState: { inputs: node("tc05", "10.0.0.12") },
            },
            {
                op: "update",
                urn: urn("NodeAssignment", "tc15"),
                oldState: { inputs: node("tc15", "10.0.0.12") },
                newState: { inputs: node("tc15", "10.0.0.13") },
            },
            { op: "create", urn: urn("NodeAssignment", "tc18"), newState: { inputs: node("tc18", "10.0.0.13 10.0.0.11") } },
        ];
        const changes = parsePreview({ steps }).changes;
        // Expected from the steps: app3 is in the list after, not before; tc15 leaves app2 for it and tc18 starts
        // on it (its first preferred server); tc05 moves between two servers that exist before and after.
        expect(appServerMoves(changes).map(describeAppServerMove)).toEqual([
            "app server app3 added: 1 client moves to it (1 from app2), 1 client new on it",
            "1 client moves from app1 to app2",
        ]);
        expect(nodeMoves(changes).map(describeMove)).toContain("tc05: app server app1 → app2");
    });

    it("the balance's list unchanged (not in the preview): a node moving to a server no other changed node names adds no server", () => {
        const steps = [
            {
                op: "update",
                urn: urn("NodeAssignment", "tc01"),
                oldState: { inputs: node("tc01", "10.0.0.11") },
                newState: { inputs: node("tc01", "10.0.0.12") },
            },
        ];
        // Without the list, only the node's own addresses are known: it moved, nothing came or went.
        expect(appServerMoves(parsePreview({ steps }).changes).map(describeAppServerMove)).toEqual(["1 client moves from 10.0.0.11 to 10.0.0.12"]);
    });
});

describe("server files without a reboot rule", () => {
    it("the iPXE menu shows at the next boot; an unknown file is named for the reviewer", () => {
        const urn = "urn:pulumi:dev::netboot::pulumi-nodejs:dynamic/netboot:LtspServer::ltsp";
        const nodes = [{ mac: "52:54:00:00:01:01", hostname: "pc01", image: "thin" }];
        const before = {
            nodes,
            rendered: { "/srv/tftp/ltsp/ltsp.ipxe": "a\n", "/etc/nbd-server/config": "[generic]\n", "/etc/apt/apt.conf.d/01netboot-proxy": "x\n" },
        };
        const after = {
            nodes,
            rendered: {
                "/srv/tftp/ltsp/ltsp.ipxe": "b\n",
                "/etc/nbd-server/config": "[generic]\n[thin]\n",
                "/etc/apt/apt.conf.d/01netboot-proxy": "y\n",
            },
        };
        const impact = clientImpact(
            parsePreview({ steps: [{ op: "update", urn, oldState: { inputs: before }, newState: { inputs: after } }] }).changes,
        );
        expect(impact.nextBoot).toEqual([{ reason: "ltsp: the iPXE menu /srv/tftp/ltsp/ltsp.ipxe changed", hostnames: ["pc01"] }]);
        expect(impact.noRule).toEqual(["ltsp: /etc/nbd-server/config"]);
        expect(impact.mustReboot).toEqual([]);
    });
});
