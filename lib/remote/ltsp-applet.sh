#!/bin/sh
# ltsp-applet.sh APPLET: ltsp ipxe, ltsp initrd, ltsp nfs.
set -eu
# One `ltsp` run at a time on this host, whichever process or stack sends it (RemoteHost.exclusive
# only orders the resources of one process): a host-wide lock, released when this shell exits.
mkdir -p /run/lock
exec 9>/run/lock/netboot-ltsp.lock
flock -w 1800 9 || { echo "another ltsp run on this host held /run/lock/netboot-ltsp.lock for 30 minutes" >&2; exit 1; }
menu=/srv/tftp/ltsp/ltsp.ipxe
if [ "$1" = ipxe ] && [ -f "$menu" ]; then
  # The served menu is ours (a managed file with a step of its own, written whole after this one):
  # `ltsp ipxe` installs the iPXE binaries and rewrites the menu, so the menu served until that
  # step is the one that was there, never LTSP's own (a fault between the two leaves it old).
  cp -p -- "$menu" "$menu.netboot-keep"
  if ! ltsp ipxe; then
    mv -f -- "$menu.netboot-keep" "$menu"
    exit 1
  fi
  mv -f -- "$menu.netboot-keep" "$menu"
else
  ltsp "$1"
fi
