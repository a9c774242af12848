#!/bin/sh
# ltsp-applet.sh APPLET: ltsp ipxe, ltsp initrd, ltsp nfs.
set -eu
ltsp "$1"
