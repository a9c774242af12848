#!/bin/sh
# image-copy-server-file.sh FROM DEST BUILD: copies a file that lives on the server (a key made
# there) into the image being built, root-owned, mode 0600, refusing a DEST that a link inside
# the chroot would lead out of BUILD.
set -eu
from=$1 dst=$2 build=$3
[ -f "$from" ] || { echo "$from does not exist on the server" >&2; exit 1; }
dir=$(dirname -- "$dst")
mkdir -p -- "$dir"
case "$(realpath -- "$dir")/" in
"$(realpath -- "$build")"/*) ;;
*) echo "$dst leads out of the image's build directory" >&2; exit 1 ;;
esac
install -m 0600 -o root -g root -- "$from" "$dst"
