/**
 * The resources this package defines (resources/*.ts, one class each), by the type name each
 * registers: `pulumi-nodejs:dynamic/netboot:<kind>` in URNs and states. The PR report lists them in
 * this order (servers, scopes, images, nodes, then the rest).
 */
export const RESOURCE_KINDS = [
    "LtspServer",
    "DhcpScope",
    "ChrootImage",
    "NodeAssignment",
    "AppServer",
    "SessionBalance",
    "SlurmController",
    "ClonezillaRepository",
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** The type token's prefix: a resource's type is this and its kind. */
export const RESOURCE_TYPE_PREFIX = "pulumi-nodejs:dynamic/netboot:";
