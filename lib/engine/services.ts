import { remoteScript } from "../remote/scripts";
import type { Host } from "./host";

/** Restarts a unit and checks it stays up; a failure carries the unit's last journal lines. */
export async function restartService(host: Host, service: string): Promise<void> {
    await host.mutate(`restart ${service}`, remoteScript("restart-service"), [service]).catch(async (err: Error) => {
        const journal = await host.exec(remoteScript("service-journal"), [service]).catch(() => ({ stdout: "" }));
        throw new Error(`${err.message}\n${journal.stdout}`.trimEnd());
    });
}

export async function enableService(host: Host, service: string): Promise<void> {
    await host.mutate(`enable ${service}`, remoteScript("enable-service"), [service]);
}

/** Which of `packages` are installed (dpkg's version) or not (null): one read-only round trip. */
export async function installedVersions(host: Host, packages: readonly string[]): Promise<Record<string, string | null>> {
    const out = await host.run("look up packages", remoteScript("observe"), ["0", "0", ...packages]);
    const versions: Record<string, string | null> = Object.fromEntries(packages.map((p) => [p, null]));
    for (const line of out.split("\n")) {
        const fields = line.split("\t");
        if (fields[0] === "package" && fields[2] === "installed") versions[fields[1]] = fields[3];
    }
    return versions;
}

/**
 * Installs whichever of `packages` are missing, through `aptProxy` when given. Resources on one
 * host run in parallel; apt allows one at a time, so installs on a host take turns (and wait for
 * a dpkg lock held by anything else), and each looks again once it has its turn. Returns what it installed.
 */
export async function installPackages(host: Host, packages: readonly string[], aptProxy?: string): Promise<string[]> {
    return host.exclusive("apt", async () => {
        const versions = await installedVersions(host, packages);
        const missing = packages.filter((p) => versions[p] === null);
        if (missing.length) {
            await host.mutate(`apt-get install ${missing.join(" ")}`, remoteScript("install-packages"), [aptProxy ?? "", ...missing], {
                timeoutMs: 30 * 60_000,
            });
        }
        return missing;
    });
}
