#!/bin/sh
# adopt-facts.sh: what `scripts/adopt` reads from a running LTSP server besides its files (read-only):
# the IPv4 addresses, the images LTSP serves (/srv/ltsp/images/NAME.img) and apt's HTTP proxy.
set -eu
echo "== ip"
ip -o -4 addr show
echo "== images"
for image in /srv/ltsp/images/*.img; do
    if [ -f "$image" ]; then basename "$image" .img; fi
done
echo "== apt-proxy"
apt-config dump 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p'
