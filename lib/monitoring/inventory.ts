import { appServerOf, nodeView } from "../report/nodes";
import { type Kind, kindOf, type Props } from "../report/preview";

/**
 * What a site has, for monitoring and inventory tools: its LTSP servers, the application servers
 * its clients' sessions go to (their ltsp.conf SERVER / SSH_SERVER), and its nodes.
 */
export interface InventoryHost {
    hostname: string;
    mac?: string;
    /** Where the host is reached: a server's SSH address, a node's reserved address. */
    ip?: string;
    image?: string;
    /** `ltsp-server`, `app-server`, or the node's own role (`node` when it has none). */
    role: string;
    /** A node's LTSP server (the LtspServer resource that lists it). */
    server?: string;
    /** The port of the node exporter the stack runs on this host (LtspServer `monitoring.nodeExporter`). */
    exporterPort?: number;
    /** The one address that exporter listens on, when it is not `ip` (LtspServer `monitoring.listenAddress`). */
    exporterAddress?: string;
}

export interface Inventory {
    site: string;
    hosts: InventoryHost[];
}

export interface InventoryResource {
    kind: Kind;
    name: string;
    props: Props;
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

function natural(a: string, b: string): number {
    return a.localeCompare(b, "en", { numeric: true });
}

/** The inventory of a site from its resources' inputs (as a state export or a preview holds them). */
export function inventoryOf(site: string, resources: readonly InventoryResource[]): Inventory {
    const servers = resources.filter((r) => r.kind === "LtspServer");
    const nodes = resources.filter((r) => r.kind === "NodeAssignment").map((r) => nodeView(r.name, r.props));
    const serverOf = (mac: string): string | undefined => {
        const listing = servers.find((s) => Array.isArray(s.props.nodes) && (s.props.nodes as Array<{ mac?: string }>).some((n) => n?.mac === mac));
        return listing?.name ?? (servers.length === 1 ? servers[0].name : undefined);
    };
    const hosts: InventoryHost[] = servers
        .map((s) => ({
            hostname: s.name,
            ip: String((s.props.connection as Props | undefined)?.host ?? "") || undefined,
            role: "ltsp-server",
            exporterPort: nodeExporterPort(s.props),
            exporterAddress: nodeExporterPort(s.props) === undefined ? undefined : nodeExporterListenAddress(s.props),
        }))
        .sort((a, b) => natural(a.hostname, b.hostname));
    const appServers = [...new Set(nodes.map(appServerOf).filter((a): a is string => !!a))].sort(natural);
    hosts.push(...appServers.map((a) => ({ hostname: a, ...(IPV4.test(a) ? { ip: a } : {}), role: "app-server" })));
    hosts.push(
        ...nodes
            .map((n) => ({ hostname: n.hostname, mac: n.mac, ip: n.ip, image: n.image, role: n.role || "node", server: serverOf(n.mac) }))
            .sort((a, b) => natural(a.hostname, b.hostname)),
    );
    return { site, hosts: hosts.map(withoutUndefined) };
}

/** The port of the node exporter an LtspServer's inputs ask for (`monitoring: { nodeExporter: true }`), else undefined. */
function nodeExporterPort(props: Props): number | undefined {
    const monitoring = props.monitoring as { nodeExporter?: unknown; nodeExporterPort?: unknown } | undefined;
    if (monitoring?.nodeExporter !== true) return undefined;
    return typeof monitoring.nodeExporterPort === "number" ? monitoring.nodeExporterPort : 9100;
}

/** LtspServer `monitoring.listenAddress`, when the inputs set it. */
function nodeExporterListenAddress(props: Props): string | undefined {
    const address = (props.monitoring as { listenAddress?: unknown } | undefined)?.listenAddress;
    return typeof address === "string" && IPV4.test(address) ? address : undefined;
}

function withoutUndefined(host: InventoryHost): InventoryHost {
    return Object.fromEntries(Object.entries(host).filter(([, v]) => v !== undefined && v !== "")) as unknown as InventoryHost;
}

/** The inventory from `pulumi stack export` (custom resources' inputs). */
export function inventoryFromState(site: string, state: unknown): Inventory {
    const resources =
        (state as { deployment?: { resources?: Array<{ urn: string; type: string; custom?: boolean; inputs?: Props }> } })?.deployment?.resources ??
        [];
    return inventoryOf(
        site,
        resources
            .filter((r) => r.custom && r.inputs)
            .map((r) => ({ kind: kindOf(r.type, r.inputs), name: r.urn.split("::").slice(3).join("::"), props: r.inputs! })),
    );
}
