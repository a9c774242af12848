import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LDMINFOD_SOCKET, renderAppServerFiles, SSHD_DROPIN, UNIT_DIR } from "../../lib/appserver/plan";
import { type AppServerSpec, validateAppServer } from "../../lib/appserver/spec";
import type { HostObservation } from "../../lib/host/observe";
import { LIGHTTPD_CONF, NBD_SERVER_ALLOW, NBD_SERVER_CONF } from "../../lib/ltsp/bootMenu";
import { NODE_EXPORTER_DEFAULTS, planServer, renderServerFiles, serverPackages } from "../../lib/ltsp/serverPlan";
import { type LtspServerSpec, validateLtspServer } from "../../lib/ltsp/serverSpec";
import { inventoryOf } from "../../lib/monitoring/inventory";
import { fileSdTargets } from "../../lib/monitoring/renderers";
import { controllerFiles, validateCluster } from "../../lib/slurm/clusterSpec";
import { TEST_KEY, TEST_PIN, validServerInputs } from "./helpers";

/**
 * Issue 17 section 4: every service the stacks start listens only where its clients are, and
 * admits only them where the daemon can tell. validServerInputs: SSH at 10.213.0.2 (the
 * management side), the LAN 10.213.1.1/24 (the clients' side).
 */

function server(overrides: Record<string, unknown> = {}): LtspServerSpec {
    const result = validateLtspServer(validServerInputs(overrides));
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

const fileOf = (files: { path: string; content: string }[], path: string) => {
    const file = files.find((f) => f.path === path);
    if (!file) throw new Error(`${path} is not rendered`);
    return file.content;
};

/** An INI-like file (nbd-server(5), rsyncd.conf(5)) as sections of key -> value; "" holds what comes before any section. */
function sections(text: string): Map<string, Map<string, string>> {
    const out = new Map<string, Map<string, string>>([["", new Map()]]);
    let current = out.get("")!;
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const header = /^\[([^\]]+)\]$/.exec(line);
        if (header) {
            current = new Map();
            out.set(header[1], current);
            continue;
        }
        const eq = line.indexOf("=");
        current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
    return out;
}

describe("LtspServer: nbd-server and lighttpd listen on the LAN address, for the LAN subnet", () => {
    const spec = server({ images: ["thin-a", "thin-b"], boot: { rootTransport: "nbd", http: true } });
    const files = renderServerFiles(spec, "test");

    it("nbd-server: listenaddr is the LAN address; every export's authfile lists the LAN subnet only", () => {
        const conf = sections(fileOf(files, NBD_SERVER_CONF));
        // nbd-server(5): without listenaddr it listens on "::, 0.0.0.0".
        expect(conf.get("generic")?.get("listenaddr")).toBe("10.213.1.1");
        for (const image of ["thin-a", "thin-b"]) {
            expect(conf.get(image)?.get("authfile")).toBe(NBD_SERVER_ALLOW);
            expect(conf.get(image)?.get("readonly")).toBe("true");
        }
        // The authfile: one address or network a line, '#' starts a comment.
        const allowed = fileOf(files, NBD_SERVER_ALLOW)
            .split("\n")
            .map((l) => l.replace(/#.*/, "").trim())
            .filter(Boolean);
        expect(allowed).toEqual(["10.213.1.0/24"]);
    });

    it("the allow list is written before the config that names it (nbd-server admits everyone while it is missing)", () => {
        const bare: HostObservation = { files: {}, services: {}, packages: {} };
        const writes = planServer(files, serverPackages(spec), false, {}, bare)
            .filter((s) => s.kind === "write")
            .map((s) => (s.kind === "write" ? s.file.path : ""));
        expect(writes).toContain(NBD_SERVER_ALLOW);
        expect(writes.indexOf(NBD_SERVER_ALLOW)).toBeLessThan(writes.indexOf(NBD_SERVER_CONF));
        // Only nbd-server's files: an NFS server has neither.
        expect(renderServerFiles(server(), "test").map((f) => f.path)).not.toContain(NBD_SERVER_ALLOW);
    });

    it("lighttpd: bound to the LAN address, every request from outside the LAN subnet denied by mod_access", () => {
        const conf = fileOf(files, LIGHTTPD_CONF);
        expect(conf).toMatch(/^server\.bind {10}= "10\.213\.1\.1"$/m);
        expect(conf).toMatch(/^server\.modules {7}= \( "mod_access" \)$/m);
        expect(conf).toContain('$HTTP["remote-ip"] != "10.213.1.0/24" {\n    url.access-deny = ( "" )\n}\n');
        expect(conf).not.toMatch(/^server\.use-ipv6/m);
    });

    it("lighttpd accepts the file (lighttpd -tt, when lighttpd is installed here)", () => {
        if (!existsSync("/usr/sbin/lighttpd")) return;
        const dir = mkdtempSync(join(tmpdir(), "lighttpd-"));
        try {
            writeFileSync(join(dir, "lighttpd.conf"), fileOf(files, LIGHTTPD_CONF));
            execFileSync("/usr/sbin/lighttpd", ["-tt", "-f", join(dir, "lighttpd.conf")], { stdio: "pipe" });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("LtspServer: the node exporter listens on the one address Prometheus scrapes", () => {
    const argsOf = (spec: LtspServerSpec) => /^ARGS="(.*)"$/m.exec(fileOf(renderServerFiles(spec, "t"), NODE_EXPORTER_DEFAULTS))?.[1];

    it("by default the server's SSH address, the one file_sd names; not every address (':9100')", () => {
        const spec = server({ monitoring: { nodeExporter: true } });
        expect(argsOf(spec)).toBe("--web.listen-address=10.213.0.2:9100");
        const inventory = inventoryOf("lab", [
            { kind: "LtspServer", name: "ltsp", props: validServerInputs({ monitoring: { nodeExporter: true } }) },
        ]);
        expect(fileSdTargets(inventory, { exportersOnly: true })[0].targets).toEqual(["10.213.0.2:9100"]);
    });

    it("monitoring.listenAddress moves it, and file_sd names that address", () => {
        const inputs = { monitoring: { nodeExporter: true, nodeExporterPort: 9200, listenAddress: "10.213.1.1" } };
        expect(argsOf(server(inputs))).toBe("--web.listen-address=10.213.1.1:9200");
        const inventory = inventoryOf("lab", [{ kind: "LtspServer", name: "ltsp", props: validServerInputs(inputs) }]);
        expect(fileSdTargets(inventory, { exportersOnly: true })[0].targets).toEqual(["10.213.1.1:9200"]);
    });

    it("a server reached by name needs listenAddress (no guess at which address is the monitoring one)", () => {
        const connection = { host: "ltsp.school.example", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN };
        const result = validateLtspServer(validServerInputs({ connection, monitoring: { nodeExporter: true } }));
        expect(result.ok).toBe(false);
        expect(result.ok ? "" : result.failures.map((f) => `${f.property}: ${f.reason}`).join("\n")).toContain("monitoring.listenAddress");
        expect(validateLtspServer(validServerInputs({ connection, monitoring: { nodeExporter: true, listenAddress: "10.0.0.2" } })).ok).toBe(true);
        // Without the exporter, nothing is asked.
        expect(validateLtspServer(validServerInputs({ connection })).ok).toBe(true);
    });
});

describe("SlurmController: the rsync daemon listens on the controller's LAN address", () => {
    const v = validateCluster({
        connection: { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
        controllerAddress: "10.213.1.1",
        clientNetwork: "10.213.1.0/24",
        mungeKey: "k".repeat(40),
    });
    if (!v.ok) throw new Error(JSON.stringify(v.failures));
    const files = controllerFiles(v.spec, "ltsp-lab");
    const rsyncd = files.find((f) => f.file.path === "/etc/rsyncd.conf")!.file.content;

    it("`address` is a global parameter (before any module), the module admits the node LAN only", () => {
        const conf = sections(rsyncd);
        expect(conf.get("")?.get("address")).toBe("10.213.1.1");
        expect(conf.get("render")?.get("hosts allow")).toBe("10.213.1.0/24");
        expect(conf.get("render")?.get("hosts deny")).toBe("*");
    });

    it("slurm.conf says why slurmctld is not bound (no Slurm setting binds it to SlurmctldHost's address)", () => {
        const conf = files.find((f) => f.file.path === "/etc/slurm/slurm.conf")!.file.content;
        expect(conf).toContain("NoCtldInAddrAny");
        expect(conf).not.toMatch(/^CommunicationParameters=/m);
    });
});

describe("AppServer: ldminfod and password logins for the thin clients' LAN only", () => {
    const CONNECTION = { host: "10.213.0.6", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN };
    function spec(overrides: Record<string, unknown> = {}): AppServerSpec {
        const result = validateAppServer({ connection: CONNECTION, lan: { address: "10.213.1.11/24" }, users: [{ name: "pupil01" }], ...overrides });
        if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
        return result.spec;
    }
    const files = renderAppServerFiles(spec(), "test");

    it("its LAN address is required: without it neither can be bound", () => {
        const result = validateAppServer({ connection: CONNECTION, users: [] });
        expect(result.ok).toBe(false);
        expect(result.ok ? [] : result.failures.map((f) => f.property)).toContain("lan");
        expect(validateAppServer({ connection: CONNECTION, lan: { address: "10.213.1.11" } }).ok).toBe(false);
    });

    it("ldminfod.socket: the LAN address and port, bound before the address is up, the LAN subnet allowed and nothing else", () => {
        const socket = fileOf(files, `${UNIT_DIR}/${LDMINFOD_SOCKET}`);
        const listen = socket.split("\n").filter((l) => l.startsWith("ListenStream="));
        // A bare port (ListenStream=9571) is every address, IPv4 and IPv6.
        expect(listen).toEqual(["ListenStream=10.213.1.11:9571"]);
        expect(socket).toMatch(/^FreeBind=yes$/m);
        expect(socket).toMatch(/^IPAddressAllow=10\.213\.1\.0\/24$/m);
        expect(socket).toMatch(/^IPAddressDeny=any$/m);
    });

    it("sshd: passwords off globally, on only in a final `Match Address` block for the LAN subnet", () => {
        const lines = fileOf(files, SSHD_DROPIN)
            .split("\n")
            .filter((l) => l.trim() && !l.startsWith("#"));
        const match = lines.findIndex((l) => l.startsWith("Match "));
        expect(lines[match]).toBe("Match Address 10.213.1.0/24");
        // Before the Match: global. sshd takes the first value it reads: no.
        expect(lines.slice(0, match).filter((l) => /^PasswordAuthentication /.test(l))).toEqual(["PasswordAuthentication no"]);
        expect(lines.slice(0, match)).toContain("KbdInteractiveAuthentication no");
        // After it, to the end of the file, only what applies to LAN clients.
        expect(lines.slice(match + 1)).toEqual(["    PasswordAuthentication yes"]);
    });

    it("sshd's own evaluation: a password from the LAN, keys only from elsewhere (sshd -T -C, when sshd is installed here)", () => {
        if (!existsSync("/usr/sbin/sshd")) return;
        const dir = mkdtempSync(join(tmpdir(), "sshd-"));
        try {
            writeFileSync(join(dir, "c"), fileOf(files, SSHD_DROPIN));
            const effective = (addr: string) =>
                execFileSync(
                    "/usr/sbin/sshd",
                    ["-T", "-f", join(dir, "c"), "-h", join(__dirname, "..", "fixtures", "unit-test-key"), "-C", `user=pupil01,host=c,addr=${addr}`],
                    { encoding: "utf8" },
                )
                    .split("\n")
                    .filter((l) => /^(passwordauthentication|kbdinteractiveauthentication) /.test(l))
                    .sort();
            expect(effective("10.213.1.21")).toEqual(["kbdinteractiveauthentication no", "passwordauthentication yes"]);
            expect(effective("10.213.0.1")).toEqual(["kbdinteractiveauthentication no", "passwordauthentication no"]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
