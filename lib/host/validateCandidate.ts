import { RemoteHost } from "../ssh/remoteHost";

/**
 * Runs a daemon's own syntax check on candidate content before it replaces anything: the
 * content goes to a temporary file, `command` gets its path as $1 (e.g. 'dnsmasq --test
 * --conf-file="$1"'). Throws with the checker's words when it refuses.
 */
export async function validateCandidate(host: RemoteHost, what: string, content: string, command: string): Promise<void> {
    const script = `t=$(mktemp); trap 'rm -f "$t"' EXIT; cat >"$t"; set -- "$t"; ${command} 2>&1`;
    const result = await host.exec(script, [], { stdin: content });
    if (result.code !== 0) {
        throw new Error(`${host.label}: ${command.split(" ")[0]} rejects the rendered ${what}:\n${result.stdout.trim()}`);
    }
}
