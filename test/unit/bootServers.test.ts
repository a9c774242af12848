import { describe, expect, it } from "vitest";
import { formatIssues } from "../../lib/core/fields";
import { type BootServerClaim, checkBootServers } from "../../lib/site/bootServers";
import { redundantConfig } from "../../stacks/redundant";

const server = (name: string, host: string, lanAddress: string, dhcpMode: BootServerClaim["dhcpMode"] = "proxy"): BootServerClaim => ({
    name,
    host,
    port: 22,
    lanAddress,
    dhcpMode,
});

const paths = (servers: BootServerClaim[]) => checkBootServers(servers).map((p) => `${p.path.join(".")}: ${p.message}`);

describe("redundant boot servers: one LAN, proxyDHCP each, checked before anything connects", () => {
    it("two proxyDHCP servers on one LAN, on two machines, pass", () => {
        expect(checkBootServers([server("ltsp-a", "10.0.0.2", "10.213.9.1/24"), server("ltsp-b", "10.0.0.6", "10.213.9.11/24")])).toEqual([]);
    });

    it("two servers both handing out addresses on one subnet are refused, naming the second's dhcp.mode and the first", () => {
        const problems = paths([server("ltsp-a", "10.0.0.2", "10.213.9.1/24", "full"), server("ltsp-b", "10.0.0.6", "10.213.9.11/24", "full")]);
        expect(problems).toHaveLength(2);
        expect(problems[0]).toMatch(/^servers\.0\.dhcp\.mode: hands out addresses: redundant boot servers answer as proxyDHCP/);
        expect(problems[1]).toMatch(/^servers\.1\.dhcp\.mode: hands out addresses, as servers\[0\] \(ltsp-a\) already does on this LAN: /);
    });

    it("one authority beside a proxy is refused too (its stop would stop every boot); so is a server that answers no DHCP", () => {
        expect(paths([server("ltsp-a", "h1", "10.213.9.1/24", "full"), server("ltsp-b", "h2", "10.213.9.11/24")])).toEqual([
            expect.stringMatching(/^servers\.0\.dhcp\.mode: hands out addresses: .*stops every boot when it stops/),
        ]);
        expect(paths([server("ltsp-a", "h1", "10.213.9.1/24"), server("ltsp-b", "h2", "10.213.9.11/24", "none")])).toEqual([
            expect.stringMatching(/^servers\.1\.dhcp\.mode: answers no DHCP/),
        ]);
    });

    it("one server, one machine twice, two LANs, one address twice, one name twice: each named", () => {
        expect(paths([server("ltsp-a", "h1", "10.213.9.1/24")])).toEqual([expect.stringMatching(/^servers: has 1 server\(s\)/)]);
        expect(paths([server("ltsp-a", "h1", "10.213.9.1/24"), server("ltsp-b", "h1", "10.213.9.11/24")])).toEqual([
            "servers.1.host: is also servers[0] (ltsp-a): redundancy needs two machines",
        ]);
        expect(paths([server("ltsp-a", "h1", "10.213.9.1/24"), server("ltsp-b", "h2", "10.213.10.1/24")])).toEqual([
            "servers.1.lan.address: is not on the LAN of servers[0] (ltsp-a, 10.213.9.0/24): redundant servers serve one LAN",
        ]);
        expect(paths([server("ltsp-a", "h1", "10.213.9.1/24"), server("ltsp-b", "h2", "10.213.9.1/24")])).toEqual([
            "servers.1.lan.address: is also the address of servers[0] (ltsp-a)",
        ]);
        expect(paths([server("ltsp-a", "h1", "10.213.9.1/24"), server("ltsp-a", "h2", "10.213.9.11/24")])).toEqual([
            "servers.1.name: is also the name of servers[0]",
        ]);
    });

    it("the site's config: dhcp.mode defaults to proxy; a full one fails at program start as one line naming the field", () => {
        const site = (modes: (string | undefined)[]) => ({
            site: "redundant",
            servers: modes.map((mode, i) => ({
                name: `ltsp-${i}`,
                server: { host: `10.213.8.${2 + 4 * i}` },
                lan: { interface: "eth1", address: `10.213.9.${1 + 10 * i}/24` },
                ...(mode ? { dhcp: { mode } } : {}),
            })),
        });
        const ok = redundantConfig.safeParse(site([undefined, undefined]));
        expect(ok.success).toBe(true);
        expect(ok.data?.servers.map((s) => s.dhcp.mode)).toEqual(["proxy", "proxy"]);
        const bad = redundantConfig.safeParse(site(["proxy", "full"]), { reportInput: true });
        expect(bad.success).toBe(false);
        expect(formatIssues(bad.error?.issues ?? []).map((f) => f.reason)).toEqual([
            expect.stringMatching(/^servers\.1\.dhcp\.mode: "full" hands out addresses: redundant boot servers answer as proxyDHCP/),
        ]);
    });
});
