import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { normalizeMac } from "../core/node";
import { sha256Hex } from "../core/sha256";
import type { DesiredFile, Step } from "../engine/steps";
import { renderTemplate, TEMPLATE_DIR } from "../render/templates";

/**
 * A key door: how a secret reaches the machines that need it without being in their boot image.
 * Boot images (NBD exports, TFTP and HTTP files) are readable by any machine on the clients' LAN,
 * so they carry no secret. A node asks for it at boot over SSH, as the door's account on the
 * server, with an asking key that is in the image (it opens this door only); the door answers a
 * machine whose MAC its allow list admits and refuses the rest. Pure: no host is touched here.
 *
 * Doors: "munge" (the Slurm nodes' munge key, SlurmController) and "ocs" (the Clonezilla
 * repository's key, ClonezillaRepository).
 */

export interface DoorPaths {
    /** The door's directory on the server, also its account's home. */
    dir: string;
    account: string;
    /** The forced command (templates/var/lib/netboot/doors/serve.sh). */
    serve: string;
    /** Who may have the secret (rules, see serve.sh). */
    allow: string;
    /** The copy of the secret the door hands out (root:account 0440). */
    secret: string;
    /** The networks of the asking key's from= (written by key-door-setup.sh). */
    from: string;
    /** The asking key and the pinned host key on the server; copied into the image at the same place under /etc. */
    request: string;
    knownHosts: string;
    /** Where the image has them. */
    imageRequest: string;
    imageKnownHosts: string;
}

export function doorPaths(door: string): DoorPaths {
    const dir = `/var/lib/netboot/doors/${door}`;
    const imageDir = `/etc/netboot/doors/${door}`;
    return {
        dir,
        account: `netboot-door-${door}`,
        serve: `${dir}/serve`,
        allow: `${dir}/allow`,
        secret: `${dir}/secret`,
        from: `${dir}/from`,
        request: `${dir}/request`,
        knownHosts: `${dir}/known_hosts`,
        imageRequest: `${imageDir}/request`,
        imageKnownHosts: `${imageDir}/known_hosts`,
    };
}

/** "any" (every machine on the clients' LAN) or a MAC. */
export const ANY_MACHINE = "any";

export const doorClient = z.string().transform((value, ctx) => {
    if (value === ANY_MACHINE) return value;
    const mac = normalizeMac(value);
    if (!mac) {
        ctx.addIssue({ code: "custom", input: value, message: `is neither a MAC address (like 52:54:00:12:34:56) nor "${ANY_MACHINE}"` });
        return z.NEVER;
    }
    return mac;
});

/** The allow list: refusals first (a denied machine stays denied under "any"), then the admitted. */
export function allowList(door: string, admit: string[], deny: string[] = []): string {
    const rules = [...new Set(deny)].sort().map((mac) => `deny ${mac}`);
    const admitted = admit.includes(ANY_MACHINE) ? [ANY_MACHINE] : [...new Set(admit)].sort();
    rules.push(...admitted.map((who) => `allow ${who}`));
    return [
        `# Managed by netboot: who may have the ${door} key (read by ./serve; the first rule that matches wins).`,
        ...(rules.length ? rules : ["# nobody"]),
        "",
    ].join("\n");
}

function asIs(path: string): string {
    return readFileSync(join(TEMPLATE_DIR, `${path}.sh`), "utf8");
}

function file(path: string, content: string, mode: string): DesiredFile {
    return { path, content, mode, sha256: sha256Hex(content) };
}

/** The door's files the engine writes (the rest is key-door-setup.sh's). */
export function doorFiles(door: string, allow: string): DesiredFile[] {
    const paths = doorPaths(door);
    return [file(paths.serve, asIs("var/lib/netboot/doors/serve"), "0755"), file(paths.allow, allow, "0644")];
}

/** Every path a plan observes to know whether the door is as wanted. */
export function doorObservedFiles(door: string): string[] {
    const paths = doorPaths(door);
    return [paths.serve, paths.allow, paths.secret, paths.from];
}

/**
 * The door as engine steps, from what the server has (sha256 by path): the account, keys and
 * secret copy when the secret or the networks changed or were never set up, then each file that
 * differs. `secretSha256`: the secret's, when the program knows it (a key made on the server is
 * copied every time: the setup is idempotent).
 */
export function planDoor(
    door: string,
    opts: { from: string; secretSource: string; secretSha256?: string; allow: string },
    seen: Record<string, string | null>,
): Step[] {
    const paths = doorPaths(door);
    const steps: Step[] = [];
    const setUp = seen[paths.from] === sha256Hex(`${opts.from}\n`) && opts.secretSha256 !== undefined && seen[paths.secret] === opts.secretSha256;
    if (!setUp) {
        steps.push({
            kind: "run",
            what: `key door ${door}: account, asking key, secret from ${opts.secretSource}`,
            script: "key-door-setup",
            args: [door, paths.dir, paths.account, opts.from, opts.secretSource],
        });
    }
    for (const f of doorFiles(door, opts.allow)) if (seen[f.path] !== f.sha256) steps.push({ kind: "write", file: f });
    return steps;
}

/** The run step that closes the door (delete). */
export function closeDoorArgs(door: string): [string, string] {
    const paths = doorPaths(door);
    return [paths.dir, paths.account];
}

/**
 * What a boot image needs to ask the door: the asking key and the server's host key (copied on
 * the server), the fetch script, and a drop-in that makes `service` fetch its secret before it
 * starts (as root: `+`), so that it waits for it and fails without it.
 */
export function doorImageParts(
    door: string,
    opts: { server: string; service: string; dest: string; owner: string; mode: string },
): { extraFiles: Record<string, string>; serverFiles: Record<string, string> } {
    const paths = doorPaths(door);
    const fetch = "/usr/local/sbin/netboot-fetch-secret";
    return {
        extraFiles: {
            [fetch]: asIs("usr/local/sbin/netboot-fetch-secret"),
            [`/etc/systemd/system/${opts.service}.service.d/netboot-door.conf`]: renderTemplate("etc/systemd/system/service.d/netboot-door.conf", {
                ...opts,
                door,
                fetch,
            }),
        },
        serverFiles: { [paths.imageRequest]: paths.request, [paths.imageKnownHosts]: paths.knownHosts },
    };
}
