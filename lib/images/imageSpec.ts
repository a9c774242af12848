import { z } from "zod";
import { connectionSchema } from "../core/connection";
import { aptProxyUrl, debianPackage, formatIssues, httpUrl, type Validated } from "../core/fields";
import { imageName } from "../core/node";
import { sha256Hex } from "../core/sha256";

export const ARCHITECTURES = ["amd64", "i386"] as const;

const absolutePath = z
    .string()
    .regex(/^\/[A-Za-z0-9._+/-]*$/, "is not an absolute path of plain characters")
    // Written under the image's chroot: a . or .. segment could leave it.
    .refine((p) => !p.split("/").some((segment) => segment === "." || segment === ".."), "may not contain . or .. segments");

/** Directories LTSP itself keeps beside the images in /srv/ltsp: an image may not be named like them. */
const LTSP_OWN_NAMES = ["images"];

const debootstrapSource = z
    .object({
        suite: z
            .string()
            .regex(/^[a-z]+$/, "is not a Debian suite name (bookworm, trixie, ...)")
            .default("bookworm"),
        architecture: z.enum(ARCHITECTURES),
        /** The Debian mirror; reached through the server's apt proxy when one is set. */
        mirror: httpUrl.default("http://deb.debian.org/debian"),
        /** Installed into the chroot with apt (so dependencies resolve); ltsp and a kernel are added. */
        packages: z.array(debianPackage).default([]),
        /** path inside the image -> content. */
        extraFiles: z.record(absolutePath, z.string()).default({}),
        /**
         * path inside the image -> path of a file on the server, copied (mode 0600, root) into the
         * chroot: for secrets made on the server (e.g. the Clonezilla repository key) that must not
         * pass through the program or its state. Only the paths are part of the build hash: put
         * something that changes with the content (a fingerprint) into extraFiles.
         */
        serverFiles: z.record(absolutePath, absolutePath).default({}),
        /**
         * initramfs-tools MODULES: "most" (Debian's default), or "netboot" for a much smaller
         * initrd with the network drivers only (faster over TFTP).
         */
        initramfsModules: z.enum(["most", "dep", "netboot"]).default("most"),
        /** Shell commands run in the chroot after the packages and files, in order. */
        postInstall: z.array(z.string().refine((c) => !c.includes("\n"), "contains a newline; give one command per entry")).default([]),
    })
    .strict();

/**
 * Where the image's root filesystem comes from: exactly one of the three sources `ltsp image`
 * knows. (An object of optional keys rather than a union, so a mistake inside one source is
 * reported at its own field.)
 */
const sourceSchema = z
    .object({
        debootstrap: debootstrapSource.optional(),
        /** The server's own root filesystem ("chrootless" LTSP: `ltsp image /`). */
        serverRoot: z.literal(true).optional(),
        /** An existing chroot directory or a VM's raw disk image on the server. */
        path: absolutePath.optional(),
    })
    .strict()
    .superRefine((source, ctx) => {
        const given = Object.keys(source).filter((k) => source[k as keyof typeof source] !== undefined);
        if (given.length !== 1) {
            ctx.addIssue({ code: "custom", input: given, message: "must name exactly one source: debootstrap, serverRoot or path" });
        }
    });

export const imageSchema = z
    .object({
        connection: connectionSchema,
        /** http_proxy for debootstrap and apt, e.g. the site's apt-cacher-ng. */
        aptProxy: aptProxyUrl.optional(),
        name: imageName.refine((n) => !LTSP_OWN_NAMES.includes(n), "is LTSP's own directory (/srv/ltsp/images); choose another name"),
        source: sourceSchema,
        /** mksquashfs compression: zstd builds in seconds where LTSP's default (gzip) takes minutes. */
        compression: z.enum(["gzip", "xz", "zstd", "lz4"]).default("zstd"),
        /** Serve the build before the current one (kept by every rebuild) instead of the current. */
        rollback: z.boolean().default(false),
        /**
         * Take over an existing chroot or image of the same name that netboot did not make (else
         * create refuses, naming it). Delete leaves what was adopted.
         */
        adopt: z.boolean().default(false),
    })
    .strict();

export type ImageSpec = z.infer<typeof imageSchema>;
export type DebootstrapSource = z.infer<typeof debootstrapSource>;

export function validateImage(inputs: unknown): Validated<ImageSpec> {
    const result = imageSchema.safeParse(inputs, { reportInput: true });
    if (result.success) return { ok: true, spec: result.data };
    return { ok: false, failures: formatIssues(result.error.issues, ["connection.privateKey"]) };
}

/**
 * Packages every LTSP client image needs: LTSP itself, a kernel for its architecture, an init
 * (a minbase debootstrap has no /sbin/init, and LTSP's initrd aborts copying it) and nbd-client
 * (its initramfs hook connects an NBD root).
 */
export function imagePackages(source: DebootstrapSource): string[] {
    const kernel = source.architecture === "amd64" ? "linux-image-amd64" : "linux-image-686";
    return [...new Set(["ltsp", kernel, "initramfs-tools", "zstd", "systemd-sysv", "nbd-client", ...source.packages])].sort();
}

/**
 * What a debootstrap chroot is before the image's own files: suite, architecture, mirror, the
 * packages and the initramfs modules. Images with the same base (several thin images that differ
 * in their files) share one cached copy of it on the server instead of each running debootstrap
 * and apt again.
 */
export function baseHash(source: DebootstrapSource): string {
    const { suite, architecture, mirror, initramfsModules } = source;
    return sha256Hex(JSON.stringify({ suite, architecture, mirror, initramfsModules, packages: imagePackages(source) }));
}

/**
 * The build's identity: everything that changes what is built, nothing that does not (the
 * connection, the proxy, rollback). Same hash, same image: no rebuild.
 */
export function buildHash(spec: Pick<ImageSpec, "name" | "source" | "compression">): string {
    const source = spec.source.debootstrap
        ? { debootstrap: { ...spec.source.debootstrap, packages: imagePackages(spec.source.debootstrap) } }
        : spec.source;
    return sha256Hex(JSON.stringify({ name: spec.name, compression: spec.compression, source: sortKeys(source) }));
}

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value && typeof value === "object") {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
        );
    }
    return value;
}
