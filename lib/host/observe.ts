import { RemoteHost } from "../ssh/remoteHost";

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

// One round trip, read-only. Paths, units and packages come as arguments, never spliced in.
const OBSERVE_SCRIPT = `
nfiles=$1 nservices=$2; shift 2
i=0
while [ $i -lt $nfiles ]; do
  f=$1; shift; i=$((i+1))
  if [ -f "$f" ]; then printf 'file\\t%s\\t%s\\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
  else printf 'file\\t-\\t%s\\n' "$f"; fi
done
i=0
while [ $i -lt $nservices ]; do
  s=$1; shift; i=$((i+1))
  printf 'service\\t%s\\t%s\\t%s\\n' "$s" "$(systemctl is-active "$s" 2>/dev/null)" "$(systemctl is-enabled "$s" 2>/dev/null || echo not-found)"
done
if [ $# -gt 0 ]; then
  dpkg-query -W -f='package\\t\${Package}\\t\${db:Status-Status}\\t\${Version}\\n' "$@" 2>/dev/null || true
fi
`;

export async function observeHost(host: RemoteHost, req: ObservationRequest): Promise<HostObservation> {
    const files = req.files ?? [];
    const services = req.services ?? [];
    const packages = req.packages ?? [];
    const out = await host.run("observe host state", OBSERVE_SCRIPT, [
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
