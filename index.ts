/**
 * boot-iac as a library: the LTSP server, image, node and DHCP scope resources, their inputs, and the
 * inventory loader (the other four resources are used by this repository's own site stacks only). A Pulumi
 * program that installed the package uses them as this repository's own stacks do:
 *
 *     import { LtspServer, NodeAssignment, loadInventory } from "boot-iac";
 */
export { InventoryError, InventoryIssue, InventoryNode, loadInventory, parseInventory } from "./lib/inventory";
export { ChrootImage, ChrootImageArgs } from "./resources/chrootImage";
export { DhcpScope, DhcpScopeArgs } from "./resources/dhcpScope";
export { LtspServer, LtspServerArgs } from "./resources/ltspServer";
export { NodeAssignment, NodeAssignmentArgs } from "./resources/nodeAssignment";
