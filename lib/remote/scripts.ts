import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** lib/remote/: every shell script this project runs on a host, one `.sh` file each (shellcheck runs on them). */
export const REMOTE_SCRIPT_DIR = __dirname;

const loaded = new Map<string, string>();

/**
 * The text of lib/remote/NAME.sh, read once. Hosts run it with `sh -c TEXT netboot ARGS...`:
 * values always travel as $1..$n, never inside the text.
 */
export function remoteScript(name: string): string {
    let text = loaded.get(name);
    if (text === undefined) {
        text = readFileSync(join(REMOTE_SCRIPT_DIR, `${name}.sh`), "utf8");
        loaded.set(name, text);
    }
    return text;
}

/** Which script a text is (for fakes and logs): the name, or undefined for a text that is none of ours. */
export function remoteScriptName(text: string): string | undefined {
    for (const file of readdirSync(REMOTE_SCRIPT_DIR)) {
        if (file.endsWith(".sh") && remoteScript(file.slice(0, -3)) === text) return file.slice(0, -3);
    }
    return undefined;
}
