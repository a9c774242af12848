import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { DHCP_MODES } from "../lib/ltsp/serverSpec";
import { checkBootServers } from "../lib/site/bootServers";
import { ChrootImage, type ChrootImageArgs } from "../resources/chrootImage";
import { LtspServer, type LtspServerArgs } from "../resources/ltspServer";
import { NodeAssignment, type NodeAssignmentArgs } from "../resources/nodeAssignment";
import { connectionFrom, readSiteConfig, serverConfigSchema } from "./config";
import { imageConfig, nodeConfig } from "./lab";

/**
 * The "redundant" site: two or more LTSP servers on one LAN that serve the same images and nodes,
 * each answering as proxyDHCP beside the site's one DHCP server, so a client boots while any one
 * of them runs. Why proxyDHCP and not one authority or split ranges: lib/site/bootServers.ts.
 *
 * Config: servers (each: name, server = how to reach it, lan, dhcp.mode "proxy"), aptProxy,
 * images, nodes, ltspConf, boot, extraPackages. Every server builds every image from the same
 * definition and writes the same menu and ltsp.conf.
 */
const redundantServerConfig = z
    .object({
        /** The LtspServer's resource name; its images are `NAME-IMAGE`. */
        name: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, "is not a server name (lower-case letter first, then letters, digits and -)"),
        server: serverConfigSchema,
        /** The LAN interface and this server's address on it with prefix; LtspServer checks the details. */
        lan: z.object({ interface: z.string(), address: z.string() }).strict(),
        /** Only "proxy" is accepted (checked below, naming the server); the field exists so that a "full" is refused, not ignored. */
        dhcp: z
            .object({ mode: z.enum(DHCP_MODES) })
            .strict()
            .default({ mode: "proxy" }),
    })
    .strict();

export const redundantConfig = z
    .object({
        site: z.literal("redundant"),
        servers: z.array(redundantServerConfig),
        aptProxy: z.string().optional(),
        ltspConf: z.unknown().optional(),
        extraPackages: z.unknown().optional(),
        boot: z.unknown().optional(),
        images: z.array(imageConfig).default([]),
        nodes: z.array(nodeConfig).default([]),
    })
    .strict()
    .superRefine((site, ctx) => {
        const claims = site.servers.map((s) => ({
            name: s.name,
            host: s.server.host,
            port: s.server.port ?? 22,
            lanAddress: s.lan.address,
            dhcpMode: s.dhcp.mode,
        }));
        for (const problem of checkBootServers(claims)) ctx.addIssue({ code: "custom", ...problem });
    });

export function redundantSite(config: pulumi.Config) {
    const site = readSiteConfig(redundantConfig, ["privateKey"]);
    const imageNames = site.images.map((image) => image.name);
    site.nodes.forEach((node, i) => {
        if (!imageNames.includes(node.image)) {
            throw new pulumi.RunError(
                `netboot:nodes[${i}].image: "${node.image}" (node ${node.hostname}) is not an image of this stack (known: ${imageNames.join(", ") || "none"})`,
            );
        }
    });
    // One NodeAssignment per client, listed by every server: each writes the same [MAC] sections.
    const nodes = site.nodes.map((node) => new NodeAssignment(node.hostname, node as unknown as NodeAssignmentArgs));

    const servers = site.servers.map((s, i) => {
        const connection = connectionFrom(s.server, config, `netboot:servers[${i}].server`);
        // Each server builds each image from the same definition: a server never depends on
        // another to boot its clients.
        const images = site.images.map(
            (image) =>
                new ChrootImage(`${s.name}-${image.name}`, {
                    connection,
                    aptProxy: site.aptProxy,
                    name: image.name,
                    source: image.source as ChrootImageArgs["source"],
                    compression: image.compression as ChrootImageArgs["compression"],
                    rollback: image.rollback as ChrootImageArgs["rollback"],
                }),
        );
        const server = new LtspServer(
            s.name,
            {
                connection,
                aptProxy: site.aptProxy,
                extraPackages: site.extraPackages as LtspServerArgs["extraPackages"],
                lan: s.lan as LtspServerArgs["lan"],
                dhcp: s.dhcp as LtspServerArgs["dhcp"],
                ltspConf: site.ltspConf as LtspServerArgs["ltspConf"],
                boot: site.boot as LtspServerArgs["boot"],
                images: imageNames,
                nodes: nodes.map((node) => node.spec),
            },
            { dependsOn: images },
        );
        return { name: s.name, server, images };
    });

    return {
        servers: Object.fromEntries(
            servers.map(({ name, server, images }) => [
                name,
                {
                    address: server.address,
                    services: server.services,
                    bootFiles: server.bootFiles,
                    images: Object.fromEntries(images.map((image, i) => [imageNames[i], { sha256: image.sha256, size: image.size }])),
                },
            ]),
        ),
        nodes: nodes.map((node) => ({ hostname: node.hostname, mac: node.mac, image: node.image, role: node.role })),
    };
}
