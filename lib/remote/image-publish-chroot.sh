#!/bin/sh
# image-publish-chroot.sh BUILD CHROOT HASH: the finished chroot replaces the one we built before.
# The build hash inside it (.netboot-build) is how a later run knows the chroot is ours. A chroot
# at CHROOT without that mark is one the resource adopted (adopt: true): it is never deleted but
# kept beside, as CHROOT.adopted (printed as "kept<TAB>PATH"); delete leaves it there.
set -eu
build=$1 chroot=$2 hash=$3
printf '%s\n' "$hash" >"$build/.netboot-build"
if [ -e "$chroot" ] && [ ! -f "$chroot/.netboot-build" ]; then
  if [ -e "$chroot.adopted" ]; then
    echo "$chroot is not a chroot netboot built and $chroot.adopted is taken: move one of them away" >&2
    exit 1
  fi
  mv -- "$chroot" "$chroot.adopted"
  printf 'kept\t%s\n' "$chroot.adopted"
fi
rm -rf -- "$chroot"
mv -- "$build" "$chroot"
