import * as pulumi from "@pulumi/pulumi";
import { ChrootImage, ChrootImageArgs } from "../resources/chrootImage";
import { DhcpScope, DhcpScopeArgs } from "../resources/dhcpScope";
import { LtspServer, LtspServerArgs } from "../resources/ltspServer";
import { NodeAssignment } from "../resources/nodeAssignment";
import { ClonezillaConfig, clonezillaOutputs, clonezillaParts } from "./clonezilla";
import { ServerConfig, connectionFrom } from "./config";

interface ImageConfig {
    name: string;
    source: ChrootImageArgs["source"];
    rollback?: boolean;
}

interface NodeConfig {
    hostname: string;
    mac: string;
    image: string;
    ip?: string;
    kernelParameters?: string;
    menuTimeout?: number;
    ltspConf?: Record<string, string>;
    role?: string;
}

/** A DHCP scope in config: the scope's fields; `server` when it is not the LTSP server. */
type ScopeConfig = Omit<DhcpScopeArgs, "connection" | "nodes" | "aptProxy"> & { server?: ServerConfig };

/**
 * The lab site: one LTSP server (by default the lab/netboot-lab host), its images and the
 * clients assigned to them. Config: server, aptProxy, lan, dhcp, ltspConf, extraPackages,
 * images, nodes, dhcpScopes, nulSuffixLinks, boot (see Pulumi.dev.yaml).
 */
export function labSite(config: pulumi.Config) {
    const connection = connectionFrom(config.requireObject<ServerConfig>("server"), config);
    const aptProxy = config.get("aptProxy");

    // Images first: the server's iPXE menu lists them, so the server is configured after them.
    const images = new Map(
        (config.getObject<ImageConfig[]>("images") ?? []).map((image) => [
            image.name,
            new ChrootImage(image.name, { connection, aptProxy, name: image.name, source: image.source, rollback: image.rollback }),
        ]),
    );
    const nodes = (config.getObject<NodeConfig[]>("nodes") ?? []).map((node, i) => {
        const image = images.get(node.image);
        if (!image) {
            throw new Error(`nodes[${i}] (${node.hostname}).image: "${node.image}" is not an image of this stack (known: ${[...images.keys()].join(", ") || "none"})`);
        }
        return new NodeAssignment(node.hostname, { ...node, image: image.name });
    });

    // Each scope reserves the nodes' fixed addresses and points PXE clients at the server.
    const scopes = (config.getObject<ScopeConfig[]>("dhcpScopes") ?? []).map(
        ({ server, ...scope }) =>
            new DhcpScope(`dhcp-${scope.name}`, {
                ...scope,
                connection: server ? connectionFrom(server, config) : connection,
                aptProxy,
                nodes: nodes.map((node) => node.spec),
            }),
    );

    // Clonezilla (netboot:clonezilla): the repository, its boot image served like the others, its menu entries.
    const czConfig = config.getObject<ClonezillaConfig>("clonezilla");
    const clonezilla = czConfig ? clonezillaParts(czConfig, connection, aptProxy) : undefined;
    if (clonezilla) images.set(clonezilla.bootImage, clonezilla.image);
    const boot = config.getObject<NonNullable<LtspServerArgs["boot"]>>("boot") ?? {};
    const bootWithClonezilla = clonezilla ? { ...(boot as object), menuEntries: [...((boot as { menuEntries?: unknown[] }).menuEntries ?? []), ...clonezilla.menuEntries] } : boot;

    const ltsp = new LtspServer("ltsp-server", {
        connection,
        aptProxy,
        extraPackages: config.getObject<string[]>("extraPackages"),
        lan: config.requireObject<LtspServerArgs["lan"]>("lan"),
        dhcp: config.requireObject<LtspServerArgs["dhcp"]>("dhcp"),
        ltspConf: config.getObject<LtspServerArgs["ltspConf"]>("ltspConf"),
        nulSuffixLinks: config.getObject<string[]>("nulSuffixLinks"),
        boot: bootWithClonezilla as LtspServerArgs["boot"],
        images: [...images.values()].map((image) => image.name),
        nodes: nodes.map((node) => node.spec),
    });

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
            [...images].map(([name, image]) => [name, { sha256: image.sha256, size: image.size, kernelVersion: image.kernelVersion, buildSeconds: image.buildSeconds }]),
        ),
        nodes: nodes.map((node) => ({ hostname: node.hostname, mac: node.mac, image: node.image, role: node.role })),
        dhcpScopes: scopes.map((scope) => ({ kind: scope.kind, service: scope.service, managedFiles: scope.managedFiles })),
        clonezilla: clonezillaOutputs(clonezilla),
    };
}
