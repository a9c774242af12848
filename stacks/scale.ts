import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { LtspServer, type LtspServerArgs } from "../resources/ltspServer";
import { NodeAssignment, type NodeAssignmentArgs } from "../resources/nodeAssignment";
import { readSiteConfig } from "./config";

/**
 * The scale benchmark's site (bench/scale.ts): many LTSP servers and their clients from one
 * JSON file (a site of 1400 clients is past what stack config can carry), or, with mode "floor",
 * the same number of dynamic resources with the same inputs that do nothing: the engine's floor.
 */
const scaleConfig = z.object({ site: z.literal("scale"), scaleFile: z.string().min(1) }).strict();

export interface ScaleServer {
    name: string;
    host: string;
    port: number;
    hostKeyFingerprint: string;
    lan: { interface: string; address: string };
}

export interface ScaleFile {
    mode: "real" | "floor";
    privateKeyFile: string;
    images: string[];
    servers: ScaleServer[];
    /** Each node with the index of its server. */
    nodes: Array<NodeAssignmentArgs & { hostname: string; server: number }>;
}

/** A dynamic resource that does nothing: create returns at once, update too; the engine diffs its inputs. */
const nothing: pulumi.dynamic.ResourceProvider = {
    async create() {
        return { id: "nothing", outs: {} };
    },
    async update() {
        return { outs: {} };
    },
};

class Nothing extends pulumi.dynamic.Resource {
    constructor(name: string, props: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
        super(nothing, name, props, opts, "netboot", "Nothing");
    }
}

export function scaleSite(_config: pulumi.Config) {
    const site = readSiteConfig(scaleConfig);
    const file = JSON.parse(readFileSync(site.scaleFile, "utf8")) as ScaleFile;
    const privateKey = pulumi.secret(readFileSync(file.privateKeyFile, "utf8"));
    const serverArgs = (server: ScaleServer, nodes: unknown[]) => ({
        connection: { host: server.host, port: server.port, privateKey, hostKeyFingerprint: server.hostKeyFingerprint },
        lan: server.lan,
        dhcp: { mode: "none" as const },
        ltspConf: { server: { menuTimeout: 5000 }, clients: { kernelParameters: "quiet" } },
        images: file.images,
        nodes,
    });
    if (file.mode === "floor") {
        const nodes = file.nodes.map(({ server, ...node }) => ({
            server,
            node,
            resource: new Nothing(node.hostname, node as Record<string, unknown>),
        }));
        file.servers.forEach((server, i) => {
            const own = nodes.filter((n) => n.server === i);
            new Nothing(
                server.name,
                serverArgs(
                    server,
                    own.map((n) => n.node),
                ),
                { dependsOn: own.map((n) => n.resource) },
            );
        });
        return { resources: nodes.length + file.servers.length };
    }
    const nodes = file.nodes.map(({ server, ...node }) => ({ server, resource: new NodeAssignment(node.hostname, node) }));
    file.servers.forEach((server, i) => {
        const own = nodes.filter((n) => n.server === i).map((n) => n.resource.spec);
        new LtspServer(server.name, serverArgs(server, own) as LtspServerArgs);
    });
    return { resources: nodes.length + file.servers.length };
}
