import * as pulumi from "@pulumi/pulumi";
import { LtspServer } from "../resources/ltspServer";
import { ServerConfig, connectionFrom } from "./config";

/**
 * The lab site: one LTSP server (by default the lab/netboot-lab host) serving its PXE LAN.
 * Config: server, aptProxy, lan, dhcp, ltspConf, extraPackages (see Pulumi.dev.yaml).
 */
export function labSite(config: pulumi.Config) {
    const server = config.requireObject<ServerConfig>("server");
    const ltsp = new LtspServer("ltsp-server", {
        connection: connectionFrom(server, config),
        aptProxy: config.get("aptProxy"),
        extraPackages: config.getObject<string[]>("extraPackages"),
        lan: config.requireObject<{ interface: string; address: string }>("lan"),
        dhcp: config.requireObject("dhcp"),
        ltspConf: config.getObject("ltspConf"),
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
    };
}
