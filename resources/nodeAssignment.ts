import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { type NodeSpec, nodeSchema, normalizeMac, validateNode } from "../lib/core/node";
import { checkInputs, inputsDiffer, type ResourceArgs, withoutProvider } from "../lib/provider/inputs";
import { LazyDynamicResource } from "../lib/provider/lazy";

/**
 * One client machine: its MAC, host name, the image it boots and its per-client settings.
 * It changes nothing by itself: the LtspServer that lists it writes its [MAC] section into
 * ltsp.conf and the iPXE menu, and a DhcpScope that lists it makes its reservation, each once
 * per `pulumi up` however many nodes changed. So a node costs no SSH work and little state.
 */
export type NodeAssignmentArgs = ResourceArgs<Omit<z.input<typeof nodeSchema>, "nodeName">>;

const KEYS = Object.keys(nodeSchema.shape) as (keyof NodeSpec)[];

/** The outputs the class declares: registered even when unset, so that they exist. */
const DECLARED_OUTPUTS: readonly (keyof NodeSpec)[] = ["mac", "hostname", "image", "ip", "role"];

/**
 * Every field, unset ones as null: the engine reads an output that is missing as "unknown" during
 * a preview, which would make every server that lists this node unknown too.
 */
function complete(spec: NodeSpec): Record<string, unknown> {
    return Object.fromEntries(KEYS.map((k) => [k, spec[k] ?? null]));
}

export const nodeAssignmentProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkInputs(news, withoutProvider(news), validateNode, complete);
    },
    async diff(_id, olds, news) {
        return { changes: inputsDiffer(olds, news, KEYS).length > 0 };
    },
    async create(inputs) {
        const node = inputs as NodeSpec;
        return { id: node.mac, outs: node };
    },
    async update(_id, _olds, news) {
        return { outs: news };
    },
    // Nothing on any host to read or remove (refresh and destroy reach these).
    async read(id, props) {
        return { id, props };
    },
    async delete() {},
};

/**
 * The nodes this program declared so far, by MAC, host name and address. The servers and scopes
 * that list nodes check the whole set too; the program sees it first, so duplicates fail here, naming both.
 */
const declared = { mac: new Map<string, string>(), hostname: new Map<string, string>(), ip: new Map<string, string>() };

function declare(name: string, values: { mac?: string; hostname?: string; ip?: string }): void {
    const keys = { mac: values.mac && (normalizeMac(values.mac) ?? values.mac), hostname: values.hostname?.toLowerCase(), ip: values.ip };
    for (const key of ["mac", "hostname", "ip"] as const) {
        const value = keys[key];
        if (!value) continue;
        const other = declared[key].get(value);
        if (other !== undefined && other !== name) {
            throw new Error(`NodeAssignment ${name}: ${key} "${value}" is also the ${key} of node ${other}`);
        }
        declared[key].set(value, name);
    }
}

export class NodeAssignment extends LazyDynamicResource {
    /** Normalized: 52:54:00:12:34:56. */
    declare readonly mac: pulumi.Output<string>;
    declare readonly hostname: pulumi.Output<string>;
    declare readonly image: pulumi.Output<string>;
    declare readonly ip: pulumi.Output<string | null>;
    declare readonly role: pulumi.Output<string>;

    /**
     * Everything a server or DHCP scope needs of this node, from the args it was given (the
     * servers validate and normalize them again). Not from the outputs: during a preview a node
     * being changed has unknown outputs, and its servers could not show the ltsp.conf lines and
     * reservations the change makes.
     */
    readonly spec: pulumi.Output<NodeSpec>;

    constructor(name: string, args: NodeAssignmentArgs, opts?: pulumi.CustomResourceOptions) {
        // The fields that are set, and the declared outputs set or not (so that they exist; `complete`
        // makes the unset ones null). Not every field: the SDK makes four promises for each registered
        // property, each taking a stack trace that ts-node source-maps, so an unset field registered as
        // undefined costs the program as much as a set one (1400 nodes: docs/benchmarks.md, "1400 clients").
        const fields = args as Record<string, unknown>;
        const props: Record<string, unknown> = { nodeName: name };
        for (const k of KEYS) if (k !== "nodeName" && (fields[k] !== undefined || DECLARED_OUTPUTS.includes(k))) props[k] = fields[k];
        super(__filename, "nodeAssignmentProvider", "NodeAssignment", name, props, opts);
        const given = pulumi.output(fields);
        given.apply((values) => declare(name, values as { mac?: string; hostname?: string; ip?: string }));
        this.spec = given.apply(
            (values) =>
                ({
                    nodeName: name,
                    ...Object.fromEntries(
                        Object.entries(values).filter(([k, v]) => KEYS.includes(k as keyof NodeSpec) && v !== undefined && v !== null),
                    ),
                }) as NodeSpec,
        );
    }
}
