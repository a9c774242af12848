#!/bin/sh
# ltsp-menu-refresh.sh: `ltsp ipxe` lists the images in /srv/ltsp/images; after one is removed the
# menu is made again, so it no longer offers it. Nothing to do where no menu was generated.
set -eu
if [ -f /srv/tftp/ltsp/ltsp.ipxe ] && command -v ltsp >/dev/null; then ltsp ipxe; fi
