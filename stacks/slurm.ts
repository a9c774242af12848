import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { cidr, debianPackage, parseSubnet } from "../lib/core/fields";
import { imageName } from "../lib/core/node";
import { scopeSchema } from "../lib/dhcp/scopeSpec";
import { countRoles, pinNodes, TERMINAL_ROLE } from "../lib/slurm/nodeRoles";
import { ChrootImage, type ChrootImageArgs } from "../resources/chrootImage";
import { DhcpScope, type DhcpScopeArgs } from "../resources/dhcpScope";
import { LtspServer, type LtspServerArgs } from "../resources/ltspServer";
import { NodeAssignment, type NodeAssignmentArgs } from "../resources/nodeAssignment";
import { SlurmController, type SlurmControllerArgs } from "../resources/slurmController";
import {
    configError,
    connectionFrom,
    passedOn,
    readInventoryFile,
    readSiteConfig,
    type ServerConfig,
    scopeConnection,
    serverConfigSchema,
    siteNodes,
} from "./config";

/**
 * The two Slurm sites of issue 9: `render` (seed 000: a render farm whose nodes are added by
 * plugging them in) and `compute` (seeds 001/002: old desktops as a diskless cluster, slow ones
 * as terminals). Both are one LTSP server that also runs the queue controller and the shared
 * output directory, one node image (slurmd, munge, povray), the menu's default entry booting it,
 * pinned nodes, and any DHCP scopes (compute: the site's Windows DHCP server).
 */

const nodeConfig = z
    .object({
        hostname: z.string(),
        mac: z.string(),
        /** The cluster image unless given. */
        image: z.string().optional(),
        /** "terminal" (= ltspConf MOSIX "N"): boots the image, never runs slurmd. Else the site's worker role. */
        role: z.string().optional(),
        ip: z.unknown().optional(),
        kernelParameters: z.unknown().optional(),
        menuTimeout: z.unknown().optional(),
        ltspConf: z.record(z.string(), z.string()).optional(),
    })
    .strict();

const scopeConfig = z
    .object(
        Object.fromEntries(
            Object.keys(scopeSchema.shape)
                .filter((k) => k !== "connection" && k !== "nodes")
                .map((k) => [k, z.unknown().optional()]),
        ),
    )
    .extend({ name: z.string(), server: serverConfigSchema.optional() })
    .strict();

/** The SlurmController fields the stack sets itself, and from what. */
const CLUSTER_SET_BY_STACK: Record<string, string> = {
    connection: "netboot:server",
    aptProxy: "netboot:aptProxy",
    controllerAddress: "netboot:lan.address (the server's address)",
    clientNetwork: "netboot:lan.address (its network)",
    mungeKey: "netboot:mungeKey (a secret: pulumi config set --secret netboot:mungeKey <value>)",
    mungeKeyFor: "netboot:joinUnknown and netboot:nodes (the workers' MACs, or any machine)",
    mungeKeyNotFor: "netboot:nodes (the terminals' MACs)",
};

export function slurmSiteSchema(site: "render" | "compute") {
    return z
        .object({
            site: z.literal(site),
            server: serverConfigSchema,
            aptProxy: z.string().optional(),
            /** The LtspServer's LAN (its address is the controller's address for the nodes). */
            lan: z.object({ interface: z.string(), address: cidr }).strict(),
            dhcp: z.unknown(),
            ltspConf: z.unknown().optional(),
            extraPackages: z.unknown().optional(),
            /** LtspServer boot; defaultEntry is the cluster image unless set. */
            boot: z.record(z.string(), z.unknown()).optional(),
            /** The SlurmController's fields (clusterName, partition, feature, maxNodes, outputDir, outputModule, slurmdTimeout). */
            cluster: passedOn(CLUSTER_SET_BY_STACK, ["mungeKey"]).default({}),
            image: z
                .object({
                    name: imageName.default(site),
                    architecture: z.enum(["amd64", "i386"]).default("amd64"),
                    initramfsModules: z.enum(["most", "dep", "netboot"]).default("netboot"),
                    compression: z.unknown().optional(),
                    /**
                     * More packages for the node image (the renderer, blender, ...). Checked here: the
                     * image's source is known only after the controller, so ChrootImage's own check
                     * of them cannot run at preview.
                     */
                    packages: z.array(debianPackage).default([]),
                })
                .strict()
                .default({ name: site, architecture: "amd64", initramfsModules: "netboot", packages: [] }),
            nodes: z.array(nodeConfig).default([]),
            /**
             * Whether a machine no config names joins the cluster by booting (it gets the munge key from
             * the server's key door): the render farm's "adding a node is plugging it in" (default
             * there); the compute site gives the key to its listed workers only.
             */
            joinUnknown: z.boolean().default(site === "render"),
            inventoryFile: z.string().min(1).optional(),
            dhcpScopes: z.array(scopeConfig).default([]),
        })
        .strict();
}

export function slurmSite(site: "render" | "compute", config: pulumi.Config) {
    const cfg = readSiteConfig(slurmSiteSchema(site), ["privateKey", "mungeKey"]);
    const connection = connectionFrom(cfg.server, config);
    const aptProxy = cfg.aptProxy;
    const subnet = parseSubnet(cfg.lan.address)!;
    const workerRole = site === "render" ? "render-node" : "compute-node";
    const imageConfig = cfg.image;

    const placed = siteNodes(cfg.nodes, cfg.inventoryFile ? readInventoryFile(cfg.inventoryFile, [imageConfig.name]) : undefined);
    const { nodes: pinned, problems } = pinNodes(
        placed.map(({ node }) => node),
        imageConfig.name,
        workerRole,
    );
    if (problems.length) throw configError(`stack config: ${problems.map((p) => `${placed[p.index].place}: ${p.reason}`).join("; ")}`);
    pinned.forEach((node, i) => {
        if (node.image !== imageConfig.name) {
            throw configError(`${placed[i].place}: image "${node.image}" is not this site's image "${imageConfig.name}"`);
        }
    });

    const controller = new SlurmController("slurm-controller", {
        ...(cfg.cluster as Omit<SlurmControllerArgs, "connection" | "mungeKey" | "controllerAddress" | "clientNetwork">),
        clusterName: (cfg.cluster.clusterName as string | undefined) ?? site,
        connection,
        aptProxy,
        controllerAddress: subnet.address,
        clientNetwork: `${subnet.network}/${subnet.prefix}`,
        mungeKey: config.requireSecret("mungeKey"),
        // The key door: workers and (joinUnknown) any machine get the key at boot; terminals never.
        mungeKeyFor: cfg.joinUnknown ? ["any"] : pinned.filter((n) => n.role !== TERMINAL_ROLE).map((n) => n.mac),
        mungeKeyNotFor: pinned.filter((n) => n.role === TERMINAL_ROLE).map((n) => n.mac),
    });

    // The node image: built after the controller, whose key door's asking key it copies on the server.
    const source = controller.nodeImage.apply((parts) => ({
        debootstrap: {
            architecture: imageConfig.architecture,
            initramfsModules: imageConfig.initramfsModules,
            ...parts,
            packages: [...new Set([...parts.packages, ...imageConfig.packages])].sort(),
        },
    }));
    const image = new ChrootImage(imageConfig.name, {
        connection,
        aptProxy,
        name: imageConfig.name,
        source: source as ChrootImageArgs["source"],
        compression: imageConfig.compression as ChrootImageArgs["compression"],
    });

    const nodes = pinned.map((node) => new NodeAssignment(node.hostname, node as unknown as NodeAssignmentArgs));

    // Unknown MACs see the menu, then boot its default entry: the cluster image.
    const boot = { rootTransport: "nbd", http: true, defaultEntry: imageConfig.name, ...(cfg.boot ?? {}) };
    const ltsp = new LtspServer(
        "ltsp-server",
        {
            connection,
            aptProxy,
            extraPackages: cfg.extraPackages as LtspServerArgs["extraPackages"],
            lan: cfg.lan as LtspServerArgs["lan"],
            dhcp: cfg.dhcp as LtspServerArgs["dhcp"],
            ltspConf: cfg.ltspConf as LtspServerArgs["ltspConf"],
            boot: boot as LtspServerArgs["boot"],
            images: [imageConfig.name],
            nodes: nodes.map((node) => node.spec),
        },
        { dependsOn: [image] },
    );

    // After the server, as in the lab site (stacks/lab.ts says why).
    const scopes = cfg.dhcpScopes.map(
        ({ server, ...scope }, i) =>
            new DhcpScope(
                `dhcp-${scope.name}`,
                {
                    ...(scope as unknown as Omit<DhcpScopeArgs, "connection" | "nodes">),
                    connection: scopeConnection({ ...scope, server: server as ServerConfig | undefined }, i, connection, config),
                    aptProxy,
                    nodes: nodes.map((node) => node.spec),
                },
                { dependsOn: [ltsp] },
            ),
    );

    const pinnedByMac = new Map(pinned.map((n) => [n.mac.toLowerCase(), n]));
    return {
        server: { address: ltsp.address, services: ltsp.services, bootFiles: ltsp.bootFiles },
        image: { name: imageConfig.name, sha256: image.sha256, size: image.size, kernelVersion: image.kernelVersion },
        cluster: {
            name: controller.clusterName,
            controller: controller.controllerHostname,
            sharedOutput: pulumi.interpolate`rsync://${subnet.address}/${(cfg.cluster.outputModule as string | undefined) ?? "render"}/`,
            // What refresh reads again: every node the controller knows, its MAC from the leases,
            // and whether config pins it (unpinned: it joined by itself).
            joinedNodes: controller.nodes.apply((joined) =>
                joined.map((n) => ({
                    ...n,
                    pinned: n.mac ? pinnedByMac.has(n.mac) : false,
                    pinnedAs: n.mac ? (pinnedByMac.get(n.mac)?.hostname ?? null) : null,
                })),
            ),
            leases: controller.leases,
        },
        pinnedNodes: {
            count: pinned.length,
            byRole: countRoles(pinned),
            terminals: pinned.filter((n) => n.role === "terminal").map((n) => n.hostname),
        },
        dhcpScopes: scopes.map((scope) => ({ kind: scope.kind, service: scope.service, managedFiles: scope.managedFiles })),
    };
}
