import type { Inventory, InventoryHost } from "./inventory";

/**
 * Monitoring outputs rendered from an inventory. Pure functions: the same inventory gives the
 * same bytes, so a CI job can commit or compare them.
 */

/** One target group of a Prometheus file_sd file (prometheus.io/docs: <file_sd_config>). */
export interface FileSdGroup {
    targets: string[];
    labels: Record<string, string>;
}

export interface FileSdOptions {
    /** The exporter's port on hosts whose port the stack does not set (node_exporter: 9100). */
    port?: number;
    /** Only the hosts the stack runs an exporter on (LtspServer `monitoring.nodeExporter`): no target that is down by design. */
    exportersOnly?: boolean;
}

/**
 * Prometheus file-based service discovery: a JSON list of `{targets, labels}` groups, one per
 * host so each carries its own labels (site, role, hostname, and where known image, mac, server).
 * Label names are [a-zA-Z_][a-zA-Z0-9_]*, as Prometheus requires.
 */
export function fileSdTargets(inventory: Inventory, options: FileSdOptions = {}): FileSdGroup[] {
    const port = options.port ?? 9100;
    const hosts = options.exportersOnly ? inventory.hosts.filter((h) => h.exporterPort !== undefined) : inventory.hosts;
    return hosts.map((host) => {
        const labels: Record<string, string> = { site: inventory.site, role: host.role, hostname: host.hostname };
        if (host.image) labels.image = host.image;
        if (host.mac) labels.mac = host.mac;
        if (host.server) labels.server = host.server;
        // The exporter listens on one address only (LtspServer monitoring.listenAddress, else its SSH address).
        return { targets: [`${host.exporterAddress ?? host.ip ?? host.hostname}:${host.exporterPort ?? port}`], labels };
    });
}

export function fileSdJson(inventory: Inventory, options: FileSdOptions = {}): string {
    return `${JSON.stringify(fileSdTargets(inventory, options), null, 2)}\n`;
}

export const INVENTORY_COLUMNS = ["hostname", "mac", "ip", "image", "role", "server"] as const;

export function inventoryJson(inventory: Inventory): string {
    const hosts = inventory.hosts.map((h) => Object.fromEntries(INVENTORY_COLUMNS.map((c) => [c, h[c] ?? null])));
    return `${JSON.stringify({ site: inventory.site, hosts }, null, 2)}\n`;
}

/** RFC 4180: a field with a comma, a double quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string): string {
    return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 CSV: a header line, one record per host, every line ended by CRLF. */
export function inventoryCsv(inventory: Inventory): string {
    const row = (values: readonly string[]) => `${values.map(csvField).join(",")}\r\n`;
    return row(INVENTORY_COLUMNS) + inventory.hosts.map((h: InventoryHost) => row(INVENTORY_COLUMNS.map((c) => h[c] ?? ""))).join("");
}
