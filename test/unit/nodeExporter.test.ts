import { describe, expect, it } from "vitest";
import type { HostObservation } from "../../lib/host/observe";
import {
    IPXE_FILES,
    LTSP_IMG,
    NFS_EXPORTS,
    NODE_EXPORTER_DEFAULTS,
    planServer,
    renderServerFiles,
    serverPackages,
    serverServices,
} from "../../lib/ltsp/serverPlan";
import { type LtspServerSpec, validateLtspServer } from "../../lib/ltsp/serverSpec";
import { inventoryOf } from "../../lib/monitoring/inventory";
import { fileSdTargets } from "../../lib/monitoring/renderers";
import { validServerInputs } from "./helpers";

function spec(overrides: Record<string, unknown> = {}): LtspServerSpec {
    const result = validateLtspServer(validServerInputs(overrides));
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

/** A host with exactly `files`, every package installed and every service of `services` running. */
function matchingHost(files: ReturnType<typeof renderServerFiles>, packages: string[], services: string[]): HostObservation {
    const observed: HostObservation = { files: {}, services: {}, packages: {} };
    for (const s of services) observed.services[s] = { active: "active", enabled: "enabled" };
    for (const p of [...IPXE_FILES, LTSP_IMG]) observed.files[p] = "0".repeat(64);
    for (const f of files) observed.files[f.path] = f.sha256;
    observed.files[NFS_EXPORTS] = null;
    for (const p of packages) observed.packages[p] = "1.0";
    return observed;
}

const managedOf = (files: ReturnType<typeof renderServerFiles>) => Object.fromEntries(files.map((f) => [f.path, { sha256: f.sha256, backup: null }]));
const brief = (steps: ReturnType<typeof planServer>) =>
    steps.map((s) => `${s.kind}:${"file" in s ? s.file.path : "service" in s ? s.service : "packages" in s ? s.packages.join(" ") : ""}`);

describe("LtspServer monitoring.nodeExporter", () => {
    it("absent: no exporter package, file or service (inputs of existing stacks stay as they were)", () => {
        const plain = spec();
        expect(plain.monitoring).toBeUndefined();
        expect(serverPackages(plain)).not.toContain("prometheus-node-exporter");
        expect(renderServerFiles(plain, "t").map((f) => f.path)).not.toContain(NODE_EXPORTER_DEFAULTS);
        expect(serverServices(plain)).toEqual(["dnsmasq"]);
    });

    it("on: Debian's package, its defaults file with the listen address, the service restarted and enabled", () => {
        const withExporter = spec({ monitoring: { nodeExporter: true } });
        expect(withExporter.monitoring).toEqual({ nodeExporter: true, nodeExporterPort: 9100 });
        const files = renderServerFiles(withExporter, "t");
        const defaults = files.find((f) => f.path === NODE_EXPORTER_DEFAULTS)!;
        // Debian's unit runs `prometheus-node-exporter $ARGS` with EnvironmentFile=/etc/default/prometheus-node-exporter.
        expect(defaults.content).toMatch(/^ARGS="--web\.listen-address=10\.213\.0\.2:9100"$/m);
        const packages = serverPackages(withExporter);
        expect(packages).toContain("prometheus-node-exporter");

        // A server already running everything else gets exactly: install, write, restart, enable.
        const plain = spec();
        const before = matchingHost(renderServerFiles(plain, "t"), serverPackages(plain), ["dnsmasq"]);
        before.files[NODE_EXPORTER_DEFAULTS] = null;
        expect(brief(planServer(files, packages, false, managedOf(renderServerFiles(plain, "t")), before))).toEqual([
            "install:prometheus-node-exporter",
            `write:${NODE_EXPORTER_DEFAULTS}`,
            "restart:prometheus-node-exporter",
        ]);
        // Once it runs, nothing more.
        expect(planServer(files, packages, false, managedOf(files), matchingHost(files, packages, serverServices(withExporter)))).toEqual([]);
    });

    it("a stopped or disabled exporter is started and enabled; another port rewrites the file and restarts it", () => {
        const on = spec({ monitoring: { nodeExporter: true } });
        const files = renderServerFiles(on, "t");
        const packages = serverPackages(on);
        const host = matchingHost(files, packages, serverServices(on));
        host.services["prometheus-node-exporter"] = { active: "inactive", enabled: "disabled" };
        expect(brief(planServer(files, packages, false, managedOf(files), host))).toEqual([
            "restart:prometheus-node-exporter",
            "enable:prometheus-node-exporter",
        ]);
        const other = spec({ monitoring: { nodeExporter: true, nodeExporterPort: 9200 } });
        const otherFiles = renderServerFiles(other, "t");
        expect(brief(planServer(otherFiles, packages, false, managedOf(files), matchingHost(files, packages, serverServices(on))))).toEqual([
            `write:${NODE_EXPORTER_DEFAULTS}`,
            "restart:prometheus-node-exporter",
        ]);
    });

    it("a bad port fails validation naming the field", () => {
        const result = validateLtspServer(validServerInputs({ monitoring: { nodeExporter: true, nodeExporterPort: 70000 } }));
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.failures[0].reason).toBe("monitoring.nodeExporterPort: 70000 is not a TCP port (1-65535)");
    });

    it("file_sd: the server's target uses its exporter port; --exporters-only lists only servers that run one", () => {
        const inventory = inventoryOf("lab", [
            {
                kind: "LtspServer",
                name: "a",
                props: { connection: { host: "10.0.0.2" }, monitoring: { nodeExporter: true, nodeExporterPort: 9200 } },
            },
            { kind: "LtspServer", name: "b", props: { connection: { host: "10.0.0.3" } } },
        ]);
        expect(fileSdTargets(inventory).map((g) => g.targets[0])).toEqual(["10.0.0.2:9200", "10.0.0.3:9100"]);
        expect(fileSdTargets(inventory, { exportersOnly: true })).toEqual([
            { targets: ["10.0.0.2:9200"], labels: { site: "lab", role: "ltsp-server", hostname: "a" } },
        ]);
    });
});
