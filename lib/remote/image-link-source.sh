#!/bin/sh
# image-link-source.sh SOURCE CHROOT_LINK IMG_LINK: LTSP finds image sources under /srv/ltsp: a
# chroot directory (linked as CHROOT_LINK) or NAME.img for a VM disk (IMG_LINK).
set -eu
mkdir -p -- "$(dirname -- "$2")"
if [ -d "$1" ]; then ln -sfn -- "$1" "$2"
elif [ -f "$1" ]; then ln -sfn -- "$1" "$3"
else echo "$1 does not exist" >&2; exit 1; fi
