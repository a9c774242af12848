#!/bin/sh
# image-publish-chroot.sh BUILD CHROOT HASH: the finished chroot replaces the one we built before.
# The build hash inside it (.netboot-build) is how a later run knows the chroot is ours.
set -eu
build=$1 chroot=$2 hash=$3
printf '%s\n' "$hash" >"$build/.netboot-build"
rm -rf -- "$chroot"
mv -- "$build" "$chroot"
