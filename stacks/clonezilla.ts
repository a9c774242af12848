import * as pulumi from "@pulumi/pulumi";
import { menuEntries, menuSpec } from "../lib/clonezilla/repositorySpec";
import type { MenuEntry } from "../lib/ltsp/bootMenu";
import { ChrootImage, type ChrootImageArgs } from "../resources/chrootImage";
import { ClonezillaRepository, type ClonezillaRepositoryArgs } from "../resources/clonezillaRepository";
import { configError } from "./config";

/** `netboot:clonezilla` in stack config: the repository's fields, and how its boot image is built. */
export type ClonezillaConfig = Omit<ClonezillaRepositoryArgs, "connection" | "aptProxy"> & {
    image?: { architecture?: "amd64" | "i386"; initramfsModules?: "most" | "dep" | "netboot" };
};

export interface ClonezillaParts {
    repository: ClonezillaRepository;
    image: ChrootImage;
    /** The image's name (known at preview). */
    bootImage: string;
    /** For the LtspServer's boot.menuEntries (known at preview: they depend on config only). */
    menuEntries: MenuEntry[];
}

/**
 * The Clonezilla repository on the site's server, the Clonezilla image (built after the
 * repository, whose key it copies on the server), and the boot menu entries for its jobs.
 */
export function clonezillaParts(
    cz: ClonezillaConfig,
    connection: ClonezillaRepositoryArgs["connection"],
    aptProxy: string | undefined,
): ClonezillaParts {
    const { image: imageConfig, ...repositoryConfig } = cz;
    const repository = new ClonezillaRepository("clonezilla-repository", { ...repositoryConfig, connection, aptProxy });
    // The entries from config alone, with the schema's defaults (the resource validates the same fields).
    const plain = clonezillaMenuSpec(cz);
    const source = repository.imageParts.apply((parts) => ({
        debootstrap: { architecture: imageConfig?.architecture ?? "amd64", initramfsModules: imageConfig?.initramfsModules ?? "netboot", ...parts },
    }));
    const image = new ChrootImage(plain.bootImage, { connection, aptProxy, name: plain.bootImage, source: source as ChrootImageArgs["source"] });
    return { repository, image, bootImage: plain.bootImage, menuEntries: menuEntries(plain) };
}

/** The menu's fields from config (known at preview); a bad one is one line naming netboot:clonezilla.FIELD, not a ZodError's trace. */
export function clonezillaMenuSpec(cz: Pick<ClonezillaConfig, "entries" | "disk" | "bootImage">) {
    const result = menuSpec({ entries: cz.entries, disk: cz.disk, bootImage: cz.bootImage });
    if (!result.ok) throw configError(`stack config: ${result.failures.map((f) => `netboot:clonezilla.${f.reason}`).join("; ")}`);
    return result.spec;
}

export function clonezillaOutputs(parts: ClonezillaParts) {
    return {
        keyFingerprint: parts.repository.keyFingerprint,
        hostKeyFingerprint: parts.repository.hostKeyFingerprint,
        images: parts.repository.images,
        menuEntries: pulumi.output(parts.menuEntries.map((e) => e.id)),
    };
}
