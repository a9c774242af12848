#!/bin/sh
# image-in-chroot.sh BUILD COMMAND: runs the administrator's COMMAND inside the chroot (with /proc).
set -eu
build=$1 command=$2
mount -t proc proc "$build/proc"
trap 'umount "$build/proc"' EXIT
chroot "$build" sh -c "$command"
