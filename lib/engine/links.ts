import { remoteScript } from "../remote/scripts";
import type { Host } from "./host";

/** Where each of `paths` points when it is a symbolic link, null when it is none: one read-only round trip. */
export async function readLinks(host: Host, paths: readonly string[]): Promise<Record<string, string | null>> {
    if (!paths.length) return {};
    const out = await host.run("read links", remoteScript("read-links"), paths);
    const links: Record<string, string | null> = Object.fromEntries(paths.map((p) => [p, null]));
    for (const line of out.split("\n")) {
        const fields = line.split("\t");
        if (fields[0] === "link") links[fields.slice(2).join("\t")] = fields[1] === "-" ? null : fields[1];
    }
    return links;
}
