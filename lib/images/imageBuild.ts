import { sha256Hex } from "../core/sha256";
import { converge, journalFor } from "../engine/converge";
import type { Host } from "../engine/host";
import type { Step } from "../engine/steps";
import { progress } from "../provider/progress";
import { remoteScript } from "../remote/scripts";
import { baseHash, buildHash, type DebootstrapSource, type ImageSpec, imagePackages } from "./imageSpec";

/** Where LTSP 23 keeps an image's parts (BASE_DIR=/srv/ltsp, TFTP_DIR=/srv/tftp). */
export function imagePaths(name: string) {
    return {
        chroot: `/srv/ltsp/${name}`,
        /** Built here, moved over `chroot` only when complete. */
        build: `/srv/ltsp/.${name}.netboot-build`,
        sourceImage: `/srv/ltsp/${name}.img`,
        image: `/srv/ltsp/images/${name}.img`,
        /** `ltsp image` keeps the previous build here. */
        previousImage: `/srv/ltsp/images/${name}.img.old`,
        tftp: `/srv/tftp/ltsp/${name}`,
        previousTftp: `/srv/tftp/ltsp/${name}.old`,
        /** The build hash of what is in `image`. */
        marker: `/srv/ltsp/images/${name}.img.netboot`,
    };
}

export interface ImageFacts {
    imagePath: string;
    size: number;
    sha256: string;
    /** "missing" when the image has no kernel in TFTP (drift, like a missing image). */
    kernelVersion: string;
    /** The build marker of the image served (the previous build's while rolled back). */
    servedBuildHash: string;
}

const BUILD_DEPS = ["ltsp", "squashfs-tools", "debootstrap"];

/**
 * Cached bases (debootstrap + packages) on the server: one directory per base hash. A base older
 * than a week is made again, so images built from it do not fall far behind the archive; the
 * four newest are kept (a few hundred MB each).
 */
export const BASE_CACHE = "/var/cache/netboot/images";
const BASE_MAX_AGE_SECONDS = 7 * 24 * 3600;
const BASES_KEPT = 4;

/** Whether the base of a chroot is in the server's cache, fresh enough to start from. */
export type BaseState = "cached" | "missing";

const LONG = 60 * 60_000;

/**
 * The steps that build a debootstrap chroot in the build directory and publish it over the chroot:
 * its base (debootstrap and apt) copied from the server's cache when `base` is "cached", else made
 * and cached; then the image's own files.
 */
function chrootSteps(spec: ImageSpec, source: DebootstrapSource, base: BaseState): Step[] {
    const paths = imagePaths(spec.name);
    const logDir = `/var/log/netboot/images/${spec.name}`;
    const proxy = spec.aptProxy ?? "";
    const run = (what: string, script: string, args: string[]): Step => ({ kind: "run", what, script, args, timeoutMs: LONG });
    const hash = baseHash(source);
    const baseDir = `${BASE_CACHE}/${hash}`;
    const steps: Step[] = [];
    if (base === "cached") {
        steps.push(run(`base of ${spec.name} from the cache (${hash.slice(0, 12)})`, "image-base-restore", [baseDir, paths.build]));
    } else {
        steps.push(
            run(`debootstrap ${spec.name} (${source.suite} ${source.architecture})`, "image-debootstrap", [
                paths.build,
                source.suite,
                source.architecture,
                source.mirror,
                proxy,
                `${logDir}/debootstrap.log`,
            ]),
            run(`install packages into ${spec.name}: ${imagePackages(source).join(" ")}`, "image-packages", [
                paths.build,
                proxy,
                source.initramfsModules,
                `${logDir}/packages.log`,
                ...imagePackages(source),
            ]),
            run(`cache the base of ${spec.name} (${hash.slice(0, 12)})`, "image-base-save", [paths.build, BASE_CACHE, hash, String(BASES_KEPT)]),
        );
    }
    for (const [path, content] of Object.entries(source.extraFiles)) {
        // Confined to the build directory: extraFiles paths have no . or .. segments (imageSpec), and
        // the write refuses a path that a link inside the chroot would lead out of it.
        steps.push({
            kind: "write",
            file: { path: paths.build + path, content, mode: "0644", sha256: sha256Hex(content) },
            confineTo: paths.build,
            keepOriginal: false,
        });
    }
    // Files that must not pass through the program (a key made on the server): copied on the server, mode 0600.
    for (const [path, from] of Object.entries(source.serverFiles)) {
        steps.push(run(`copy ${from} (server) into ${spec.name} at ${path}`, "image-copy-server-file", [from, paths.build + path, paths.build]));
    }
    for (const command of source.postInstall) steps.push(run(`post-install in ${spec.name}: ${command}`, "image-in-chroot", [paths.build, command]));
    if (Object.keys(source.extraFiles).length || Object.keys(source.serverFiles).length || source.postInstall.length) {
        steps.push(run(`update-initramfs in ${spec.name}`, "image-in-chroot", [paths.build, "update-initramfs -u -k all"]));
    }
    steps.push(run(`publish chroot ${spec.name}`, "image-publish-chroot", [paths.build, paths.chroot, buildHash(spec)]));
    return steps;
}

/**
 * The image build as engine steps: build dependencies, the chroot (for a debootstrap source,
 * unless the one there was built from exactly these inputs; its base from the server's cache when
 * `base` is "cached"), the source link (a path source),
 * then `ltsp image` (squashfs, which also runs `ltsp kernel`: vmlinuz and initrd.img into TFTP),
 * one at a time per server, and the build marker.
 */
export function planImageBuild(spec: ImageSpec, chrootUpToDate: boolean, base: BaseState = "missing"): Step[] {
    const paths = imagePaths(spec.name);
    const steps: Step[] = [{ kind: "install", packages: BUILD_DEPS, aptProxy: spec.aptProxy, why: "build dependencies" }];
    let src = spec.name;
    if (spec.source.debootstrap) {
        if (!chrootUpToDate) steps.push(...chrootSteps(spec, spec.source.debootstrap, base));
    } else if (spec.source.path) {
        steps.push({
            kind: "run",
            what: `link image source ${spec.name}`,
            script: "image-link-source",
            args: [spec.source.path, paths.chroot, paths.sourceImage],
        });
    } else {
        src = "/";
    }
    steps.push({
        kind: "run",
        what: `ltsp image ${spec.name}`,
        script: "image-squash",
        args: [spec.name, src, paths.tftp, `/var/log/netboot/images/${spec.name}/ltsp-image.log`, spec.compression],
        timeoutMs: LONG,
        // One `ltsp image` at a time per server: it mounts, squashes with every core and writes TFTP.
        exclusive: "ltsp",
    });
    steps.push({ kind: "run", what: `record build of ${spec.name}`, script: "image-record-build", args: [paths.marker, buildHash(spec)] });
    return steps;
}

/** Builds the image through the engine; each step logs its elapsed time while `up` runs. */
export async function buildImage(host: Host, spec: ImageSpec): Promise<ImageFacts> {
    const started = Date.now();
    const phase = (what: string) => progress(`ChrootImage ${spec.name}: ${what}`, started);
    // A chroot already built from exactly these inputs (say the image was lost) is squashed
    // again as it is: debootstrap and apt only run when what the chroot is made of changed.
    const built = spec.source.debootstrap ? await host.readFile(`${imagePaths(spec.name).chroot}/.netboot-build`) : undefined;
    const upToDate = built?.toString("utf8").trim() === buildHash(spec);
    if (upToDate) phase("chroot is up to date");
    const source = spec.source.debootstrap;
    const base = source && !upToDate ? await cachedBase(host, source) : "missing";
    const build = (from: BaseState) =>
        converge(host, planImageBuild(spec, upToDate, from), { journal: journalFor(`ChrootImage ${spec.name}`), managed: {}, progress: phase });
    // Images of one base built in one run: while that base is not cached, each waits for the one
    // before it, which debootstraps and caches it, and then starts from the cache (read again once
    // its turn comes), instead of making the same base beside it.
    if (source && !upToDate && base === "missing")
        await host.exclusive(`image base ${baseHash(source)}`, async () => build(await cachedBase(host, source)));
    else await build(base);
    const facts = await imageFacts(host, spec.name);
    phase(`done: ${facts.size} bytes, kernel ${facts.kernelVersion}`);
    return facts;
}

/** "cached" when the server's cache holds this base, made less than a week before `now`. */
export async function cachedBase(host: Pick<Host, "readFile">, source: DebootstrapSource, now = Date.now()): Promise<BaseState> {
    const hash = baseHash(source);
    const marker = await host.readFile(`${BASE_CACHE}/${hash}/.netboot-base`);
    const [markedHash, made] = (marker?.toString("utf8").trim() ?? "").split("\t");
    return markedHash === hash && now / 1000 - Number(made) < BASE_MAX_AGE_SECONDS ? "cached" : "missing";
}

export async function imageFacts(host: Host, name: string): Promise<ImageFacts> {
    const paths = imagePaths(name);
    const out = await host.run(`inspect image ${name}`, remoteScript("image-facts"), [paths.image, paths.tftp, paths.marker]);
    const [sha256, size, kernelVersion, hash] = out.trim().split("\t");
    return { imagePath: paths.image, sha256, size: Number(size), kernelVersion, servedBuildHash: hash ?? "" };
}

/** Serve the previous build instead of the current one, or back (the swap is symmetric). */
export async function swapWithPrevious(host: Host, name: string): Promise<ImageFacts> {
    const paths = imagePaths(name);
    progress(`ChrootImage ${name}: swap current and previous build`);
    await host.mutate(`roll back image ${name}`, remoteScript("image-swap"), [paths.image, paths.tftp, paths.marker]);
    return imageFacts(host, name);
}

/** Which [sections] of the server's ltsp.conf boot this image by default. */
export async function sectionsUsingImage(host: Host, name: string): Promise<string[]> {
    const conf = await host.readFile("/etc/ltsp/ltsp.conf");
    if (!conf) return [];
    const users: string[] = [];
    let section = "";
    for (const line of conf.toString("utf8").split("\n")) {
        const header = /^\[(.+)\]\s*$/.exec(line);
        if (header) section = header[1];
        else if (new RegExp(`^DEFAULT_IMAGE="?${name}"?\\s*$`).test(line)) users.push(section);
    }
    return users;
}

/** Every path an image of this source may make (what delete may remove, if this resource made it). */
export function imageOwnPaths(spec: ImageSpec): string[] {
    const p = imagePaths(spec.name);
    const source = spec.source.debootstrap ? [p.chroot, p.build] : spec.source.path ? [p.chroot, p.sourceImage] : [];
    return [...source, p.image, p.previousImage, p.marker, `${p.marker}.old`, p.tftp, p.previousTftp];
}

/**
 * Which of the image's paths already hold something netboot did not make (`foreign`: an
 * administrator's chroot, image or kernel directory of the same name), and which hold what it
 * would make but were there before it (`present`: a link to the same source), so not its to remove.
 */
export async function probeImagePaths(host: Host, spec: ImageSpec): Promise<{ foreign: string[]; present: string[] }> {
    const p = imagePaths(spec.name);
    const chroot = spec.source.debootstrap || spec.source.path ? p.chroot : "";
    const out = await host.run(`look for an existing image ${spec.name}`, remoteScript("image-probe"), [
        chroot,
        spec.source.path ?? "",
        p.image,
        p.marker,
        p.tftp,
    ]);
    const lines = out.split("\n").map((l) => l.split("\t"));
    return { foreign: lines.filter((l) => l[0] === "foreign").map((l) => l[1]), present: lines.filter((l) => l[0] === "present").map((l) => l[1]) };
}

/** Delete: exactly `paths` (a link as a link, never what it points to), then the iPXE menu without the image. */
export async function removeImage(host: Host, name: string, paths: readonly string[]): Promise<void> {
    if (paths.length) await host.mutate(`remove image ${name}`, remoteScript("image-remove"), paths);
    await host.exclusive("ltsp", () => host.mutate(`ltsp ipxe without image ${name}`, remoteScript("ltsp-menu-refresh")));
}
