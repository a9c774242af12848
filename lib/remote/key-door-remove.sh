#!/bin/sh
# key-door-remove.sh DIR ACCOUNT: closes a key door (lib/keydoor): its account and directory go.
# Nodes already running keep the secret they have; a node that boots next gets none from here.
set -eu
dir=$1 account=$2
case "$dir" in /var/lib/netboot/doors/?*) ;; *) echo "$dir is not a key door's directory" >&2; exit 1 ;; esac
if getent passwd "$account" >/dev/null; then userdel "$account"; fi
rm -rf -- "$dir"
