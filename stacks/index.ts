import * as pulumi from "@pulumi/pulumi";
import { computeSite } from "./compute";
import { labSite } from "./lab";
import { redundantSite } from "./redundant";
import { renderSite } from "./render";
import { scaleSite } from "./scale";
import { schoolSite } from "./school";

/** The program Pulumi runs: `netboot:site` picks which site this stack describes. */
const config = new pulumi.Config("netboot");
const sites: Record<string, (c: pulumi.Config) => Record<string, unknown>> = {
    lab: labSite,
    redundant: redundantSite,
    scale: scaleSite,
    render: renderSite,
    compute: computeSite,
    school: schoolSite,
};

const site = config.get("site") ?? "lab";
const compose = sites[site];
if (!compose) {
    throw new Error(`netboot:site is "${site}"; known sites: ${Object.keys(sites).join(", ")}`);
}

module.exports = compose(config);
