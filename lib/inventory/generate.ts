import { stringify } from "yaml";
import { parseSubnet } from "../core/fields";

export interface GenerateOptions {
    count: number;
    format: "csv" | "yaml";
    /** Images, assigned round-robin. */
    images: readonly string[];
    /** The first three octets of every MAC; the last three count up from 00:00:01. */
    macPrefix?: string;
    hostnamePrefix?: string;
    role?: string;
    /** Give each client a fixed address, counting up from `ipStart`; all must lie in `subnet`. */
    subnet?: string;
    ipStart?: string;
    /** Every `ltspEvery`-th client gets per-client ltsp.conf `{ MOSIX: "N" }`, so that path is exercised too. */
    ltspEvery?: number;
}

const toIp = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join(".");
const toNumber = (ip: string) => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);

/**
 * A synthetic inventory for benchmarks and previews of large sites (scripts/gen-inventory):
 * unique MACs, host names and addresses, in the format loadInventory reads.
 */
export function generateInventory(opts: GenerateOptions): string {
    const macPrefix = (opts.macPrefix ?? "52:54:00").toLowerCase();
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){2}$/.test(macPrefix)) throw new Error(`--mac-prefix ${macPrefix}: three bytes like 52:54:00`);
    if (opts.count < 1 || opts.count > 0xfffffe) throw new Error(`--count ${opts.count}: 1 to ${0xfffffe}`);
    if (opts.images.length === 0) throw new Error("--images: at least one image");
    const width = Math.max(3, String(opts.count).length);
    let firstIp: number | undefined;
    if (opts.subnet || opts.ipStart) {
        const subnet = opts.subnet && parseSubnet(opts.subnet);
        if (!subnet || !opts.ipStart) throw new Error("--subnet CIDR and --ip-start ADDRESS go together");
        firstIp = toNumber(opts.ipStart);
        const size = 2 ** (32 - subnet.prefix);
        const base = toNumber(subnet.network);
        if (firstIp <= base || firstIp + opts.count - 1 >= base + size - 1) {
            throw new Error(`${opts.count} addresses from ${opts.ipStart} do not fit in ${opts.subnet} (without its network and broadcast address)`);
        }
    }
    const nodes = Array.from({ length: opts.count }, (_, i) => {
        const n = i + 1;
        const mac = `${macPrefix}:${[16, 8, 0].map((shift) => ((n >> shift) & 0xff).toString(16).padStart(2, "0")).join(":")}`;
        return {
            mac,
            hostname: `${opts.hostnamePrefix ?? "pc"}${String(n).padStart(width, "0")}`,
            image: opts.images[i % opts.images.length],
            role: opts.role ?? "",
            ip: firstIp === undefined ? "" : toIp(firstIp + i),
            mosix: opts.ltspEvery && n % opts.ltspEvery === 0 ? "N" : "",
        };
    });
    if (opts.format === "csv") {
        // No value here can hold a comma, a quote or a newline: nothing needs quoting.
        const rows = nodes.map((node) => [node.mac, node.hostname, node.image, node.role, node.ip, node.mosix].join(","));
        return `${["mac,hostname,image,role,ip,ltsp.MOSIX", ...rows].join("\n")}\n`;
    }
    return stringify({
        nodes: nodes.map(({ mosix, ip, role, ...node }) => ({
            ...node,
            ...(role ? { role } : {}),
            ...(ip ? { ip } : {}),
            ...(mosix ? { ltspConf: { MOSIX: mosix } } : {}),
        })),
    });
}
