import { renderTemplate } from "../render/templates";
import { LDMINFOD_PORT } from "./spec";

/** Where the application server keeps ldminfod.sh (written by whoever installs these units). */
export const LDMINFOD_SCRIPT = "/usr/local/lib/boot-iac/ldminfod.sh";

/**
 * The systemd units of ldminfod on an application server: file name -> content. It listens on
 * `address` (the server's LAN address) and admits `network` (the LAN subnet, CIDR) only.
 */
export function ldminfodUnits(opts: {
    resource: string;
    address: string;
    network: string;
    port?: number;
    sessionsPerCore?: number;
    scriptPath?: string;
    /** Where the units go (/etc/systemd/system): their first line names the file. */
    unitDir: string;
}): Record<string, string> {
    const context = {
        resource: opts.resource,
        address: opts.address,
        network: opts.network,
        port: opts.port ?? LDMINFOD_PORT,
        sessionsPerCore: opts.sessionsPerCore ?? 10,
        scriptPath: opts.scriptPath ?? LDMINFOD_SCRIPT,
    };
    const unit = (name: string) => renderTemplate(name, { ...context, path: `${opts.unitDir}/${name}` });
    return { "ldminfod.socket": unit("ldminfod.socket"), "ldminfod@.service": unit("ldminfod@.service") };
}
