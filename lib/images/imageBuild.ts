import { sha256Hex } from "../core/sha256";
import { writeFile } from "../engine/converge";
import { Host } from "../engine/host";
import { installPackages } from "../engine/services";
import { progress } from "../provider/progress";
import { remoteScript } from "../remote/scripts";
import { buildHash, DebootstrapSource, ImageSpec, imagePackages } from "./imageSpec";

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

async function buildChroot(host: Host, spec: ImageSpec, source: DebootstrapSource, phase: (what: string) => void): Promise<void> {
    const paths = imagePaths(spec.name);
    const logDir = `/var/log/netboot/images/${spec.name}`;
    const proxy = spec.aptProxy ?? "";
    const long = { timeoutMs: 60 * 60_000 };
    phase(`debootstrap ${source.suite} ${source.architecture}`);
    await host.mutate(`debootstrap ${spec.name}`, remoteScript("image-debootstrap"), [paths.build, source.suite, source.architecture, source.mirror, proxy, `${logDir}/debootstrap.log`], long);
    const packages = imagePackages(source);
    phase(`install ${packages.join(" ")}`);
    await host.mutate(`install packages into ${spec.name}`, remoteScript("image-packages"), [paths.build, proxy, source.initramfsModules, `${logDir}/packages.log`, ...packages], long);
    for (const [path, content] of Object.entries(source.extraFiles)) {
        phase(`write ${path}`);
        await writeFile(host, { path: paths.build + path, content, mode: "0644", sha256: sha256Hex(content) });
    }
    for (const command of source.postInstall) {
        phase(`run in chroot: ${command}`);
        await host.mutate(`post-install in ${spec.name}`, remoteScript("image-in-chroot"), [paths.build, command], long);
    }
    if (Object.keys(source.extraFiles).length || source.postInstall.length) {
        phase("update-initramfs");
        await host.mutate(`update-initramfs in ${spec.name}`, remoteScript("image-in-chroot"), [paths.build, "update-initramfs -u -k all"], long);
    }
    phase("publish chroot");
    await host.mutate(`publish chroot ${spec.name}`, remoteScript("image-publish-chroot"), [paths.build, paths.chroot, buildHash(spec)]);
}

/**
 * Builds the image: the chroot (for a debootstrap source), then `ltsp image` (squashfs, which
 * also runs `ltsp kernel`: vmlinuz and initrd.img into TFTP). Each phase logs its elapsed time.
 */
export async function buildImage(host: Host, spec: ImageSpec): Promise<ImageFacts> {
    const started = Date.now();
    const phase = (what: string) => progress(`ChrootImage ${spec.name}: ${what}`, started);
    const paths = imagePaths(spec.name);
    phase("build dependencies");
    await installPackages(host, BUILD_DEPS, spec.aptProxy);
    let src = spec.name;
    const source = spec.source;
    if (source.debootstrap) {
        // A chroot already built from exactly these inputs (say the image was lost) is squashed
        // again as it is: debootstrap and apt only run when what the chroot is made of changed.
        const built = await host.readFile(`${paths.chroot}/.netboot-build`);
        if (built?.toString("utf8").trim() === buildHash(spec)) phase("chroot is up to date");
        else await buildChroot(host, spec, source.debootstrap, phase);
    } else if (source.path) {
        phase(`link ${source.path}`);
        // LTSP finds image sources under /srv/ltsp: a chroot directory, or NAME.img for a VM disk.
        await host.mutate(
            `link image source ${spec.name}`,
            remoteScript("image-link-source"),
            [source.path, paths.chroot, paths.sourceImage],
        );
    } else {
        src = "/";
    }
    // One `ltsp image` at a time per server: it mounts, squashes with every core and writes TFTP.
    await host.exclusive("ltsp", async () => {
        phase(`ltsp image ${src}`);
        await host.mutate(`ltsp image ${spec.name}`, remoteScript("image-squash"), [spec.name, src, paths.tftp, `/var/log/netboot/images/${spec.name}/ltsp-image.log`, spec.compression], {
            timeoutMs: 60 * 60_000,
        });
    });
    const hash = buildHash(spec);
    await host.mutate(`record build of ${spec.name}`, remoteScript("image-record-build"), [paths.marker, hash]);
    const facts = await imageFacts(host, spec.name);
    phase(`done: ${facts.size} bytes, kernel ${facts.kernelVersion}`);
    return facts;
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
 * Which of the image's paths already hold something netboot did not make: an administrator's
 * chroot, image or kernel directory of the same name.
 */
export async function foreignImagePaths(host: Host, spec: ImageSpec): Promise<string[]> {
    const p = imagePaths(spec.name);
    const chroot = spec.source.debootstrap || spec.source.path ? p.chroot : "";
    const out = await host.run(`look for an existing image ${spec.name}`, remoteScript("image-probe"), [chroot, spec.source.path ?? "", p.image, p.marker, p.tftp]);
    const foreign = out.split("\n").filter((l) => l.startsWith("foreign\t")).map((l) => l.slice("foreign\t".length));
    return foreign;
}

/** Delete: exactly `paths` (a link as a link, never what it points to), then the iPXE menu without the image. */
export async function removeImage(host: Host, name: string, paths: readonly string[]): Promise<void> {
    if (paths.length) await host.mutate(`remove image ${name}`, remoteScript("image-remove"), paths);
    await host.exclusive("ltsp", () => host.mutate(`ltsp ipxe without image ${name}`, remoteScript("ltsp-menu-refresh")));
}
