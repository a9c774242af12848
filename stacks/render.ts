import type * as pulumi from "@pulumi/pulumi";
import { slurmSite } from "./slurm";

/**
 * `netboot:site: render` (seed 000): the render farm. Any machine that PXE-boots on the LAN and
 * is not pinned boots the render image and joins the Slurm queue by itself; frames land in the
 * server's shared output directory. See Pulumi.render.yaml and stacks/slurm.ts.
 */
export function renderSite(config: pulumi.Config) {
    return slurmSite("render", config);
}
