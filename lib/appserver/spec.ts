import { z } from "zod";
import { LDMINFOD_PORT } from "../balance/spec";
import { connectionSchema } from "../core/connection";
import {
    aptProxyUrl,
    cidr,
    debianPackage,
    formatIssues,
    homeBaseReason,
    port,
    SECRET_VALUE,
    systemAccountReason,
    unixUser,
    type Validated,
} from "../core/fields";

/**
 * An application server of a school site: thin clients open their sessions on it with `ssh -X`.
 *
 * Why sshd with X11 forwarding, not xrdp or x2go: it is the one remote-session service every
 * Debian host already runs (the provisioning itself comes in over it), it needs no display, no
 * desktop and no extra daemon on the server (X clients draw on the thin client's own X server,
 * as LTSP 5's LDM did with `ssh -X`), its sessions are logind sessions (`loginctl`, `who`, and
 * what ldminfod counts), and it is testable in the lab, whose hosts have no display. xrdp needs
 * a desktop session per login (Xorg or Xvnc on the server) and x2go its own server and client
 * packages; both fit later as another `sessionService` value.
 */
export const SESSION_SERVICES = ["ssh-x11"] as const;

/** A path inside a home directory or /bin's shells: plain characters only. */
const absolutePath = z.string().regex(/^\/[A-Za-z0-9._+/-]*$/, "is not an absolute path of plain characters");

/** An absolute path without "." or ".." parts, empty parts or a trailing slash (what a home and the home base must be). */
const plainDirectory = absolutePath.refine(
    (p) =>
        p === "/" ||
        p
            .slice(1)
            .split("/")
            .every((part) => part !== "" && part !== "." && part !== ".."),
    'has an empty, "." or ".." part or a trailing slash',
);

function inside(path: string, dir: string): boolean {
    return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/** One authorized_keys line: key type, base64 key, optional comment; no options. */
const publicKey = z
    .string()
    .regex(
        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+=*( [^\n\r]*)?$/,
        "is not one OpenSSH public key line (type, key, comment)",
    );

const userSchema = z
    .object({
        name: unixUser,
        /** Fixed uid (the same on every server keeps shared homes consistent); else the next free one. */
        uid: z
            .number()
            .int("is not a whole number")
            .min(1000, "must be 1000-59999 (a regular user)")
            .max(59999, "must be 1000-59999 (a regular user)")
            .optional(),
        shell: absolutePath.default("/bin/bash"),
        /** Default HOMEBASE/NAME; always inside the home base, and no other user's. */
        home: plainDirectory.optional(),
        /** Keys that may log in as this user (e.g. a kiosk client's), besides the password. */
        authorizedKeys: z.array(publicKey).default([]),
    })
    .strict();

export const appServerSchema = z
    .object({
        connection: connectionSchema,
        /** http_proxy for apt. */
        aptProxy: aptProxyUrl.optional(),
        /**
         * The server's address on the thin clients' LAN, with the LAN's prefix (like 10.0.0.11/24):
         * ldminfod listens there only, and sshd asks for passwords only from that subnet (keys
         * elsewhere), so a password never crosses another network.
         */
        lan: z.object({ address: cidr }).strict(),
        sessionService: z.enum(SESSION_SERVICES).default("ssh-x11"),
        /** Where the pupils' homes are: every user's home is inside it (a home elsewhere is refused). */
        homeBase: plainDirectory
            .superRefine((p, ctx) => {
                const reason = homeBaseReason(p);
                if (reason) ctx.addIssue({ code: "custom", message: reason });
            })
            .default("/home"),
        users: z.array(userSchema).default([]),
        /**
         * user name -> password: plain in the program (a secret), SHA-512 crypt hashes once checked
         * (the provider hashes them in `check`, so state and the host only ever see the hash).
         */
        passwords: z.record(unixUser, z.string().min(1, "is empty")).default({}),
        /** The load-advertising service (ldminfod) thin clients ask at login. */
        ldminfod: z
            .object({
                port: port.default(LDMINFOD_PORT),
                sessionsPerCore: z.number().int("is not a whole number").min(1, "must be 1 or more").max(1000, "must be at most 1000").default(10),
            })
            .strict()
            .default({ port: LDMINFOD_PORT, sessionsPerCore: 10 }),
        /** More packages for the sessions (the applications pupils run, e.g. x11-apps, libreoffice). */
        extraPackages: z.array(debianPackage).default([]),
        removePackagesOnDelete: z.boolean().default(false),
        /**
         * Delete removes the users it created (never one that was there before, never a system
         * account), and so does an update for a user removed from the config; their homes too only
         * when this is set (pupils' work is in them).
         */
        removeHomesOnDelete: z.boolean().default(false),
    })
    .strict()
    .superRefine((spec, ctx) => {
        const seen = new Map<string, number>();
        const uids = new Map<number, number>();
        const homes: { home: string; i: number }[] = [];
        spec.users.forEach((user, i) => {
            if (systemAccountReason(user.name))
                ctx.addIssue({ code: "custom", path: ["users", i, "name"], input: user.name, message: "is a system account" });
            const home = homeOf(user, spec.homeBase);
            if (!inside(home, spec.homeBase) || home === spec.homeBase) {
                ctx.addIssue({ code: "custom", path: ["users", i, "home"], input: home, message: `is outside the home base ${spec.homeBase}` });
            } else {
                const shared = homes.find((h) => inside(home, h.home) || inside(h.home, home));
                if (shared) {
                    const how =
                        shared.home === home
                            ? "is also the home of"
                            : shared.home.length < home.length
                              ? "is inside the home of"
                              : "contains the home of";
                    ctx.addIssue({
                        code: "custom",
                        path: ["users", i, "home"],
                        input: home,
                        message: `${how} users[${shared.i}] (${spec.users[shared.i].name}): two users never share a home`,
                    });
                } else homes.push({ home, i });
            }
            const other = seen.get(user.name);
            if (other !== undefined)
                ctx.addIssue({ code: "custom", path: ["users", i, "name"], input: user.name, message: `is also the name of users[${other}]` });
            else seen.set(user.name, i);
            if (user.uid !== undefined) {
                const same = uids.get(user.uid);
                if (same !== undefined)
                    ctx.addIssue({ code: "custom", path: ["users", i, "uid"], input: user.uid, message: `is also the uid of users[${same}]` });
                else uids.set(user.uid, i);
            }
        });
        for (const name of Object.keys(spec.passwords)) {
            if (!seen.has(name)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["passwords", name],
                    input: name,
                    message: `is not a user of this server (users: ${[...seen.keys()].join(", ") || "none"})`,
                });
            }
        }
    });

export type AppServerSpec = z.infer<typeof appServerSchema>;
export type AppServerUser = AppServerSpec["users"][number];

export function validateAppServer(inputs: unknown): Validated<AppServerSpec> {
    const result = appServerSchema.safeParse(inputs, { reportInput: true });
    if (result.success) return { ok: true, spec: result.data };
    // A password (or its hash) never appears in a message.
    const issues = result.error.issues.map((issue) =>
        issue.path[0] === "passwords" && issue.path.length > 1 && issue.code !== "invalid_key" ? { ...issue, input: SECRET_VALUE } : issue,
    );
    return { ok: false, failures: formatIssues(issues as typeof result.error.issues, ["connection.privateKey"]) };
}

/** A user's home: the one given, else HOMEBASE/NAME. */
export function homeOf(user: Pick<AppServerUser, "name" | "home">, homeBase = "/home"): string {
    return user.home ?? `${homeBase}/${user.name}`;
}
