import { RemoteHost } from "../ssh/remoteHost";

/** What a resource records about each file it manages (kept in Pulumi state). */
export interface ManagedFileRecord {
    sha256: string;
    /** Where the file that was there before us is kept, to be put back on delete; null if none was. */
    backup: string | null;
}

export const BACKUP_DIR = "/var/lib/netboot/backup";

export function backupPathFor(path: string): string {
    return BACKUP_DIR + path;
}

interface Undo {
    path: string;
    /** The content before this transaction; undefined when the file did not exist. */
    previous: Buffer | undefined;
}

/**
 * Writes managed files one by one, each atomically, and remembers what was there so that a
 * failure later in the same apply (validation, reload, an ltsp applet) can put every file back:
 * after a failed apply each file is wholly old or wholly new, and the next `up` converges.
 */
export class FileTransaction {
    private readonly undo: Undo[] = [];

    constructor(private readonly host: RemoteHost) {}

    get touched(): string[] {
        return this.undo.map((u) => u.path);
    }

    /**
     * Replaces `path` with `content`. The first time a resource manages a path that already holds
     * something else, that content is saved under BACKUP_DIR for delete to restore.
     */
    async write(path: string, content: string, mode: string, known: ManagedFileRecord | undefined): Promise<ManagedFileRecord> {
        const previous = await this.host.readFile(path);
        let backup = known?.backup ?? null;
        if (!known && previous !== undefined) {
            backup = backupPathFor(path);
            await this.host.mutate(`back up ${path}`, 'mkdir -p -- "$(dirname -- "$2")" && cp -p -- "$1" "$2"', [path, backup]);
        }
        this.undo.push({ path, previous });
        const sha256 = await this.host.writeFileAtomic(path, content, mode);
        return { sha256, backup };
    }

    /** Removes a file this resource no longer manages, restoring the saved original if there was one. */
    async release(path: string, record: ManagedFileRecord): Promise<void> {
        this.undo.push({ path, previous: await this.host.readFile(path) });
        await restoreOriginal(this.host, path, record);
    }

    /** Puts back every file touched so far, newest first. Best effort: it reports what it could not undo. */
    async rollback(): Promise<string[]> {
        const problems: string[] = [];
        for (const { path, previous } of [...this.undo].reverse()) {
            try {
                if (previous === undefined) await this.host.mutate(`roll back ${path} (remove)`, 'rm -f -- "$1"', [path]);
                else await this.host.writeFileAtomic(path, previous);
            } catch (err) {
                problems.push(`${path}: ${(err as Error).message}`);
            }
        }
        this.undo.length = 0;
        return problems;
    }
}

/** Delete's half of the bargain: the saved original goes back, or the file goes away. */
export async function restoreOriginal(host: RemoteHost, path: string, record: ManagedFileRecord): Promise<void> {
    if (record.backup) {
        // If someone removed the saved copy there is nothing to restore; our file goes either way.
        await host.mutate(`restore ${path} from ${record.backup}`, 'if [ -e "$2" ]; then mv -f -- "$2" "$1"; else rm -f -- "$1"; fi', [
            path,
            record.backup,
        ]);
    } else {
        await host.mutate(`remove ${path}`, 'rm -f -- "$1"', [path]);
    }
}
