import type * as pulumi from "@pulumi/pulumi";
import { slurmSite } from "./slurm";

/**
 * `netboot:site: compute` (seeds 001/002): old desktops as a diskless compute pool. Fast nodes
 * boot the image and join the queue; nodes marked slow (ltspConf MOSIX "N", or role "terminal")
 * boot the same image as terminals and never run slurmd. The site's DHCP is its Windows DHCP
 * server (a DhcpScope of kind "windows"). See Pulumi.compute.yaml and stacks/slurm.ts.
 */
export function computeSite(config: pulumi.Config) {
    return slurmSite("compute", config);
}
