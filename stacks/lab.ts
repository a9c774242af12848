import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { nodeSchema } from "../lib/core/node";
import { scopeSchema } from "../lib/dhcp/scopeSpec";
import { ChrootImage, type ChrootImageArgs } from "../resources/chrootImage";
import { DhcpScope, type DhcpScopeArgs } from "../resources/dhcpScope";
import { LtspServer, type LtspServerArgs } from "../resources/ltspServer";
import { NodeAssignment, type NodeAssignmentArgs } from "../resources/nodeAssignment";
import { type ClonezillaConfig, clonezillaOutputs, clonezillaParts } from "./clonezilla";
import { connectionFrom, passedOn, readInventoryFile, readSiteConfig, scopeConnection, serverConfigSchema, siteNodes } from "./config";

/**
 * An object of exactly these keys, whose values the resource they are passed to validates (so
 * a typo is caught here, and a bad value there, both naming the field).
 */
function keysOf<T extends z.ZodRawShape>(keys: readonly string[], typed: T) {
    const rest = Object.fromEntries(keys.filter((k) => !(k in typed)).map((k) => [k, z.unknown().optional()]));
    // Typed as the fields the stack reads itself; the others pass through to the resource.
    return z.object({ ...rest, ...typed }).strict() as unknown as z.ZodObject<T, z.core.$strict>;
}

export const imageConfig = keysOf(["name", "source", "compression", "rollback"], {
    name: z.string(),
    source: z.unknown().refine((v) => v !== undefined, "is required"),
    compression: z.unknown().optional(),
    rollback: z.unknown().optional(),
});
export const nodeConfig = keysOf(
    Object.keys(nodeSchema.shape).filter((k) => k !== "nodeName"),
    { hostname: z.string(), image: z.string() },
);
/** A DHCP scope in config: the scope's fields; `server` when it is not the LTSP server. */
const scopeConfig = keysOf(
    Object.keys(scopeSchema.shape).filter((k) => k !== "connection" && k !== "nodes"),
    { name: z.string(), server: serverConfigSchema.optional() },
);

export const labConfig = z
    .object({
        site: z.literal("lab"),
        server: serverConfigSchema,
        aptProxy: z.string().optional(),
        lan: z.unknown(),
        dhcp: z.unknown(),
        ltspConf: z.unknown().optional(),
        extraPackages: z.unknown().optional(),
        nulSuffixLinks: z.unknown().optional(),
        boot: z.unknown().optional(),
        /** The server's own monitoring (LtspServer `monitoring`: `{ nodeExporter: true }`). */
        monitoring: z.unknown().optional(),
        /** The Clonezilla repository and its jobs (stacks/clonezilla.ts); the resource validates the fields. */
        clonezilla: passedOn({ connection: "netboot:server", aptProxy: "netboot:aptProxy" }).optional(),
        images: z.array(imageConfig).default([]),
        /** Images the server serves that this stack does not build (e.g. adopted: /srv/ltsp/images/NAME.img made by hand). */
        servedImages: z.array(z.string()).default([]),
        nodes: z.array(nodeConfig).default([]),
        /** A CSV or YAML file of clients (for sites past what stack config can carry), relative to the project. */
        inventoryFile: z.string().min(1).optional(),
        dhcpScopes: z.array(scopeConfig).default([]),
    })
    .strict();

/**
 * The lab site: one LTSP server (by default the lab/netboot-lab host), its images and the
 * clients assigned to them. Config: server, privateKey (secret, unless server.privateKeyFile),
 * aptProxy, lan, dhcp, ltspConf, extraPackages, images, nodes and/or inventoryFile (CSV or YAML),
 * dhcpScopes, nulSuffixLinks, boot (see Pulumi.dev.yaml).
 */
export function labSite(config: pulumi.Config) {
    const site = readSiteConfig(labConfig, ["privateKey"]);
    const connection = connectionFrom(site.server, config);
    const aptProxy = site.aptProxy;

    const imageNames = site.images.map((image) => image.name);
    const images = site.images.map(
        (image) =>
            new ChrootImage(image.name, {
                connection,
                aptProxy,
                name: image.name,
                source: image.source as ChrootImageArgs["source"],
                compression: image.compression as ChrootImageArgs["compression"],
                rollback: image.rollback as ChrootImageArgs["rollback"],
            }),
    );
    // Clonezilla (netboot:clonezilla): the repository, its boot image served like the others, its menu entries.
    const clonezilla = site.clonezilla ? clonezillaParts(site.clonezilla as ClonezillaConfig, connection, aptProxy) : undefined;
    if (clonezilla) {
        imageNames.push(clonezilla.bootImage);
        images.push(clonezilla.image);
    }
    const boot = (site.boot ?? {}) as { menuEntries?: unknown[] };
    const bootWithClonezilla = clonezilla ? { ...boot, menuEntries: [...(boot.menuEntries ?? []), ...clonezilla.menuEntries] } : site.boot;
    // What the server serves: the images built here, then those built outside the stack.
    const servedNames = [...imageNames, ...site.servedImages.filter((name) => !imageNames.includes(name))];
    site.nodes.forEach((node, i) => {
        if (!servedNames.includes(node.image)) {
            throw new pulumi.RunError(
                `netboot:nodes[${i}].image: "${node.image}" (node ${node.hostname}) is not an image of this stack (known: ${servedNames.join(", ") || "none"})`,
            );
        }
    });
    const inventory = site.inventoryFile ? readInventoryFile(site.inventoryFile, servedNames) : undefined;
    const nodes = siteNodes(site.nodes, inventory).map(({ node }) => new NodeAssignment(node.hostname, node as unknown as NodeAssignmentArgs));

    // The server lists the images by name (known at preview even for a new image) and is
    // configured after them: its iPXE menu boots them.
    const ltsp = new LtspServer(
        "ltsp-server",
        {
            connection,
            aptProxy,
            extraPackages: site.extraPackages as LtspServerArgs["extraPackages"],
            lan: site.lan as LtspServerArgs["lan"],
            dhcp: site.dhcp as LtspServerArgs["dhcp"],
            ltspConf: site.ltspConf as LtspServerArgs["ltspConf"],
            nulSuffixLinks: site.nulSuffixLinks as LtspServerArgs["nulSuffixLinks"],
            boot: bootWithClonezilla as LtspServerArgs["boot"],
            monitoring: site.monitoring as LtspServerArgs["monitoring"],
            images: servedNames,
            nodes: nodes.map((node) => node.spec),
        },
        { dependsOn: images },
    );

    // Each scope reserves the nodes' fixed addresses and points PXE clients at the server, so it is
    // applied after the server: clients are sent to a server that serves, and a reservation moving
    // between the server's dnsmasq file and a dnsmasq scope (dhcp.mode none) leaves the server's
    // file first (both at once is a duplicate dhcp-host, and dnsmasq refuses to start).
    const scopes = site.dhcpScopes.map(
        ({ server, ...scope }, i) =>
            new DhcpScope(
                `dhcp-${scope.name}`,
                {
                    ...(scope as unknown as Omit<DhcpScopeArgs, "connection" | "nodes">),
                    connection: scopeConnection({ ...scope, server }, i, connection, config),
                    aptProxy,
                    nodes: nodes.map((node) => node.spec),
                },
                { dependsOn: [ltsp] },
            ),
    );

    return {
        server: {
            address: ltsp.address,
            tftpRoot: ltsp.tftpRoot,
            ltspVersion: ltsp.ltspVersion,
            services: ltsp.services,
            managedFiles: ltsp.managedFiles,
            bootFiles: ltsp.bootFiles,
        },
        images: Object.fromEntries(
            images.map((image, i) => [
                imageNames[i],
                { sha256: image.sha256, size: image.size, kernelVersion: image.kernelVersion, buildSeconds: image.buildSeconds },
            ]),
        ),
        nodes: nodes.map((node) => ({ hostname: node.hostname, mac: node.mac, image: node.image, role: node.role })),
        dhcpScopes: scopes.map((scope) => ({ kind: scope.kind, service: scope.service, managedFiles: scope.managedFiles })),
        // Only a site with a repository has this output: Pulumi warns about an output whose value is undefined.
        ...(clonezilla ? { clonezilla: clonezillaOutputs(clonezilla) } : {}),
    };
}
