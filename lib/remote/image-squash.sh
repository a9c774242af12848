#!/bin/sh
# image-squash.sh NAME SRC TFTP LOG COMPRESSION: `ltsp image` (which keeps the previous build as
# .img.old and runs `ltsp kernel`); the previous TFTP kernel is kept as TFTP.old. LTSP names
# `ltsp image /` after the machine architecture; ours is named by its resource.
set -eu
name=$1 src=$2 tftp=$3 log=$4 compression=$5
# One `ltsp` run at a time on this host, whichever process or stack sends it (RemoteHost.exclusive
# only orders the resources of one process): a host-wide lock, released when this shell exits.
mkdir -p /run/lock
exec 9>/run/lock/netboot-ltsp.lock
flock -w 1800 9 || { echo "another ltsp run on this host held /run/lock/netboot-ltsp.lock for 30 minutes" >&2; exit 1; }
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
fi
