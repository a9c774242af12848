import { progress } from "../provider/progress";
import { RemoteHost } from "../ssh/remoteHost";
import { ensurePackages } from "../host/packages";
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
    kernelVersion: string;
    buildHash: string;
}

const BUILD_DEPS = ["ltsp", "squashfs-tools", "debootstrap"];

const DEBOOTSTRAP_SCRIPT = `set -eu
build=$1 suite=$2 arch=$3 mirror=$4 proxy=$5 log=$6
if [ -n "$proxy" ]; then export http_proxy=$proxy; fi
umount "$build/proc" 2>/dev/null || true
rm -rf -- "$build"
mkdir -p "$(dirname -- "$log")"
if ! debootstrap --variant=minbase --arch="$arch" "$suite" "$build" "$mirror" >"$log" 2>&1; then
  tail -n 20 "$log" >&2; exit 1
fi`;

const PACKAGES_SCRIPT = `set -eu
build=$1 proxy=$2 modules=$3 log=$4; shift 4
if [ -n "$proxy" ]; then export http_proxy=$proxy; fi
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$build/etc/initramfs-tools/conf.d"
printf 'MODULES=%s\\nCOMPRESS=zstd\\n' "$modules" >"$build/etc/initramfs-tools/conf.d/netboot.conf"
mount -t proc proc "$build/proc"
trap 'umount "$build/proc"' EXIT
if ! { chroot "$build" apt-get update -qq && chroot "$build" apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2; exit 1
fi
chroot "$build" apt-get clean`;

const IN_CHROOT_SCRIPT = `set -eu
build=$1 command=$2
mount -t proc proc "$build/proc"
trap 'umount "$build/proc"' EXIT
chroot "$build" sh -c "$command"`;

/** The finished chroot replaces the old one; `ltsp image` keeps the old image as .img.old. */
const PUBLISH_CHROOT_SCRIPT = `set -eu
build=$1 chroot=$2 hash=$3
printf '%s\\n' "$hash" >"$build/.netboot-build"
rm -rf -- "$chroot"
mv -- "$build" "$chroot"`;

/** LTSP names `ltsp image /` after the machine architecture; ours is named by its resource. */
const LTSP_IMAGE_SCRIPT = `set -eu
name=$1 src=$2 tftp=$3 log=$4 compression=$5
rm -rf -- "$tftp.old"
if [ -d "$tftp" ]; then cp -a -- "$tftp" "$tftp.old"; fi
mkdir -p "$(dirname -- "$log")"
if ! ltsp image -m "-comp $compression" "$src" >"$log" 2>&1; then tail -n 30 "$log" >&2; exit 1; fi
if [ "$src" = / ]; then
  built=$(uname -m)
  if [ "$built" != "$name" ]; then
    mv -f "/srv/ltsp/images/$built.img" "/srv/ltsp/images/$name.img"
    rm -rf -- "$tftp" && mv -- "/srv/tftp/ltsp/$built" "$tftp"
  fi
fi`;

// A missing image reads as "missing" with no build hash, which makes the next up rebuild it.
const FACTS_SCRIPT = `set -eu
image=$1 tftp=$2 marker=$3
if [ ! -f "$image" ]; then printf 'missing\\t0\\tunknown\\t\\n'; exit 0; fi
sha=$(sha256sum "$image" | cut -d' ' -f1)
size=$(stat -c %s "$image")
# A bzImage keeps a pointer to its version string at 0x20e (what file(1) reads).
off=$(od -An -tu2 -j 526 -N 2 "$tftp/vmlinuz" 2>/dev/null | tr -d ' ')
kernel=$( [ -n "$off" ] && dd if="$tftp/vmlinuz" bs=1 skip=$((off + 512)) count=80 2>/dev/null | tr '\\0' ' ' | cut -d' ' -f1)
printf '%s\\t%s\\t%s\\t%s\\n' "$sha" "$size" "\${kernel:-unknown}" "$(cat "$marker" 2>/dev/null || true)"`;

/** Swap the current build with the previous one, image and kernel together. */
const SWAP_SCRIPT = `set -eu
image=$1 tftp=$2 marker=$3
[ -f "$image.old" ] || { echo "no previous build of $image to roll back to" >&2; exit 1; }
mv -f "$image" "$image.swap"; mv -f "$image.old" "$image"; mv -f "$image.swap" "$image.old"
if [ -d "$tftp.old" ]; then mv -- "$tftp" "$tftp.swap"; mv -- "$tftp.old" "$tftp"; mv -- "$tftp.swap" "$tftp.old"; fi
if [ -f "$marker.old" ]; then mv -f "$marker" "$marker.swap"; mv -f "$marker.old" "$marker"; mv -f "$marker.swap" "$marker.old"; fi`;

async function buildChroot(host: RemoteHost, spec: ImageSpec, source: DebootstrapSource, phase: (what: string) => void): Promise<void> {
    const paths = imagePaths(spec.name);
    const logDir = `/var/log/netboot/images/${spec.name}`;
    const proxy = spec.aptProxy ?? "";
    const long = { timeoutMs: 60 * 60_000 };
    phase(`debootstrap ${source.suite} ${source.architecture}`);
    await host.mutate(`debootstrap ${spec.name}`, DEBOOTSTRAP_SCRIPT, [paths.build, source.suite, source.architecture, source.mirror, proxy, `${logDir}/debootstrap.log`], long);
    const packages = imagePackages(source);
    phase(`install ${packages.join(" ")}`);
    await host.mutate(`install packages into ${spec.name}`, PACKAGES_SCRIPT, [paths.build, proxy, source.initramfsModules, `${logDir}/packages.log`, ...packages], long);
    for (const [path, content] of Object.entries(source.extraFiles)) {
        phase(`write ${path}`);
        await host.writeFileAtomic(paths.build + path, content);
    }
    for (const [path, from] of Object.entries(source.serverFiles)) {
        phase(`copy ${from} (server) to ${path}`);
        await host.mutate(`copy ${from} into ${spec.name}`, 'set -eu; install -D -m 0600 -o root -g root -- "$1" "$2"', [from, paths.build + path]);
    }
    for (const command of source.postInstall) {
        phase(`run in chroot: ${command}`);
        await host.mutate(`post-install in ${spec.name}`, IN_CHROOT_SCRIPT, [paths.build, command], long);
    }
    if (Object.keys(source.extraFiles).length || Object.keys(source.serverFiles).length || source.postInstall.length) {
        phase("update-initramfs");
        await host.mutate(`update-initramfs in ${spec.name}`, IN_CHROOT_SCRIPT, [paths.build, "update-initramfs -u -k all"], long);
    }
    phase("publish chroot");
    await host.mutate(`publish chroot ${spec.name}`, PUBLISH_CHROOT_SCRIPT, [paths.build, paths.chroot, buildHash(spec)]);
}

/**
 * Builds the image: the chroot (for a debootstrap source), then `ltsp image` (squashfs, which
 * also runs `ltsp kernel`: vmlinuz and initrd.img into TFTP). Each phase logs its elapsed time.
 */
export async function buildImage(host: RemoteHost, spec: ImageSpec): Promise<ImageFacts> {
    const started = Date.now();
    const phase = (what: string) => progress(`ChrootImage ${spec.name}: ${what}`, started);
    const paths = imagePaths(spec.name);
    phase("build dependencies");
    await ensurePackages(host, BUILD_DEPS, spec.aptProxy);
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
            'set -eu; if [ -d "$1" ]; then ln -sfn -- "$1" "$2"; elif [ -f "$1" ]; then ln -sfn -- "$1" "$3"; else echo "$1 does not exist" >&2; exit 1; fi',
            [source.path, paths.chroot, paths.sourceImage],
        );
    } else {
        src = "/";
    }
    // One `ltsp image` at a time per server: it mounts, squashes with every core and writes TFTP.
    await host.exclusive("ltsp", async () => {
        phase(`ltsp image ${src}`);
        await host.mutate(`ltsp image ${spec.name}`, LTSP_IMAGE_SCRIPT, [spec.name, src, paths.tftp, `/var/log/netboot/images/${spec.name}/ltsp-image.log`, spec.compression], {
            timeoutMs: 60 * 60_000,
        });
    });
    const hash = buildHash(spec);
    await host.mutate(`record build of ${spec.name}`, 'set -eu; if [ -f "$1" ]; then cp -p "$1" "$1.old"; fi; printf "%s\\n" "$2" >"$1"', [paths.marker, hash]);
    const facts = await imageFacts(host, spec.name);
    phase(`done: ${facts.size} bytes, kernel ${facts.kernelVersion}`);
    return facts;
}

export async function imageFacts(host: RemoteHost, name: string): Promise<ImageFacts> {
    const paths = imagePaths(name);
    const out = await host.run(`inspect image ${name}`, FACTS_SCRIPT, [paths.image, paths.tftp, paths.marker]);
    const [sha256, size, kernelVersion, hash] = out.trim().split("\t");
    return { imagePath: paths.image, sha256, size: Number(size), kernelVersion, buildHash: hash ?? "" };
}

/** Serve the previous build instead of the current one, or back (the swap is symmetric). */
export async function swapWithPrevious(host: RemoteHost, name: string): Promise<ImageFacts> {
    const paths = imagePaths(name);
    progress(`ChrootImage ${name}: swap current and previous build`);
    await host.mutate(`roll back image ${name}`, SWAP_SCRIPT, [paths.image, paths.tftp, paths.marker]);
    return imageFacts(host, name);
}

/** Which [sections] of the server's ltsp.conf boot this image by default. */
export async function sectionsUsingImage(host: RemoteHost, name: string): Promise<string[]> {
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

/** Delete: the chroot we built (never a path the admin gave us: only our link to it), images, TFTP files. */
export async function removeImage(host: RemoteHost, spec: ImageSpec): Promise<void> {
    const p = imagePaths(spec.name);
    const chroot = spec.source.debootstrap ? [p.chroot, p.build] : [];
    await host.mutate(
        `remove image ${spec.name}`,
        'set -eu; for f in "$@"; do if [ -L "$f" ]; then rm -f -- "$f"; else rm -rf -- "$f"; fi; done',
        [...chroot, ...(spec.source.path ? [p.chroot, p.sourceImage] : []), p.image, p.previousImage, p.marker, `${p.marker}.old`, p.tftp, p.previousTftp],
    );
}
