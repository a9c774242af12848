import type { Host } from "../engine/host";
import { remoteScript } from "../remote/scripts";

export interface ServiceState {
    /** systemctl is-active: active, inactive, failed, ... */
    active: string;
    /** systemctl is-enabled: enabled, disabled, masked, ... (not-found when not installed) */
    enabled: string;
}

export interface HostObservation {
    /** SHA-256 of each asked-for path, null when it does not exist. */
    files: Record<string, string | null>;
    services: Record<string, ServiceState>;
    /** Installed version of each asked-for package, null when not installed. */
    packages: Record<string, string | null>;
}

export interface ObservationRequest {
    files?: readonly string[];
    services?: readonly string[];
    packages?: readonly string[];
}

/** One read-only round trip (lib/remote/observe.sh). Paths, units and packages go as arguments. */
export async function observeHost(host: Host, req: ObservationRequest): Promise<HostObservation> {
    const files = req.files ?? [];
    const services = req.services ?? [];
    const packages = req.packages ?? [];
    const out = await host.run("observe host state", remoteScript("observe"), [
        String(files.length),
        String(services.length),
        ...files,
        ...services,
        ...packages,
    ]);
    const observation: HostObservation = { files: {}, services: {}, packages: {} };
    for (const name of packages) observation.packages[name] = null;
    for (const line of out.split("\n")) {
        const fields = line.split("\t");
        if (fields[0] === "file") observation.files[fields.slice(2).join("\t")] = fields[1] === "-" ? null : fields[1];
        else if (fields[0] === "service") observation.services[fields[1]] = { active: fields[2] || "unknown", enabled: fields[3] || "unknown" };
        else if (fields[0] === "package" && fields[2] === "installed") observation.packages[fields[1]] = fields[3];
    }
    return observation;
}
