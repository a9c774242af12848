#!/bin/sh
# ltsp-applet.sh APPLET: ltsp ipxe, ltsp initrd, ltsp nfs.
set -eu
# One `ltsp` run at a time on this host, whichever process or stack sends it (RemoteHost.exclusive
# only orders the resources of one process): a host-wide lock, released when this shell exits.
mkdir -p /run/lock
exec 9>/run/lock/netboot-ltsp.lock
flock -w 1800 9 || { echo "another ltsp run on this host held /run/lock/netboot-ltsp.lock for 30 minutes" >&2; exit 1; }
ltsp "$1"
