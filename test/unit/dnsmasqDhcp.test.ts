import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { linuxBackend } from "../../lib/dhcp/linuxBackends";
import { validateScope } from "../../lib/dhcp/scopeSpec";
import { DNSMASQ_CONF, renderServerFiles } from "../../lib/ltsp/serverPlan";
import { validateLtspServer } from "../../lib/ltsp/serverSpec";
import { validScopeInputs, validServerInputs } from "./helpers";

const node = { nodeName: "pc01", mac: "52:54:00:00:01:01", hostname: "pc01", image: "thin", ip: "10.213.1.20" };

function serverConf(overrides: Record<string, unknown> = {}): string {
    const r = validateLtspServer(validServerInputs({ images: ["thin"], nodes: [node], ...overrides }));
    if (!r.ok) throw new Error(r.failures.map((f) => f.reason).join("\n"));
    return renderServerFiles(r.spec, "t").find((f) => f.path === DNSMASQ_CONF)!.content;
}

function scopeConf(overrides: Record<string, unknown> = {}): string {
    const r = validateScope({
        ...validScopeInputs(),
        nodes: [node],
        ...overrides,
    });
    if (!r.ok) throw new Error(r.failures.map((f) => f.reason).join("\n"));
    return linuxBackend(r.spec, "t").files[0].content;
}

/** dnsmasq's own verdict (dnsmasq-base, installed by scripts/setup.sh): "syntax check OK" or its complaint. */
function dnsmasqTest(conf: string): string {
    const dir = mkdtempSync(join(tmpdir(), "dnsmasq-"));
    try {
        writeFileSync(join(dir, "test.conf"), conf);
        const result = spawnSync("dnsmasq", ["--test", `--conf-file=${join(dir, "test.conf")}`], { encoding: "utf8" });
        if (result.error) throw result.error;
        return `${result.stdout}${result.stderr} (exit ${result.status})`;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** The DHCP part of a config, from its dhcp-range on, with the config's own tag and boot server taken out. */
function dhcpPart(conf: string, tag: string): string {
    return conf
        .slice(conf.indexOf("dhcp-range="))
        .replace(new RegExp(`(set:|tag:!?)${tag}`, "g"), "$1TAG")
        .replaceAll(",,10.213.1.1", "")
        .replace(/^# Boot files.*$/m, "# Boot files");
}

describe("one dnsmasq DHCP rendering (LtspServer dhcp and DhcpScope kind dnsmasq)", () => {
    it("a node's ip is a reservation in both", () => {
        expect(serverConf()).toContain("dhcp-host=52:54:00:00:01:01,10.213.1.20,pc01\n");
        expect(scopeConf()).toContain("dhcp-host=52:54:00:00:01:01,10.213.1.20,pc01\n");
    });

    it("both are the same DHCP text apart from their tag, lease unit and boot server", () => {
        const server = dhcpPart(
            serverConf({ dhcp: { mode: "full", rangeStart: "10.213.1.100", rangeEnd: "10.213.1.199", leaseTime: "3600" } }),
            "ltsp",
        );
        const scope = dhcpPart(scopeConf({ leaseSeconds: 3600 }), "nb-lab");
        expect(server).toBe(scope);
    });

    it("dnsmasq --test accepts every mode of both", () => {
        for (const conf of [
            serverConf(),
            serverConf({ dhcp: { mode: "proxy" } }),
            serverConf({ dhcp: { mode: "none" } }),
            scopeConf(),
            scopeConf({ mode: "proxy", rangeStart: undefined, rangeEnd: undefined, nodes: [] }),
            scopeConf({
                router: "10.213.1.254",
                dnsServers: ["10.213.1.1", "10.213.1.2"],
                domain: "lab.example",
                boot: { nextServer: "10.213.1.1", rootPath: "/srv/ltsp/thin", sendBootOptions: true },
            }),
        ]) {
            expect(dnsmasqTest(conf)).toMatch(/syntax check OK\.\n \(exit 0\)$/);
        }
    });

    it("proxyDHCP reserves nothing (it hands out no addresses) and sends the boot file in PXE service replies", () => {
        const proxy = serverConf({ dhcp: { mode: "proxy" }, nodes: [] });
        expect(proxy).toContain("dhcp-range=set:ltsp,10.213.1.0,proxy,255.255.255.0");
        expect(proxy).toContain('pxe-service=tag:ltsp-bios,tag:!ltsp-ipxe,X86PC,"iPXE",ltsp/undionly.kpxe\n');
        expect(proxy).not.toContain("dhcp-host=");
    });
});
