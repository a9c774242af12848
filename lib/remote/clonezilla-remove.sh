#!/bin/sh
# clonezilla-remove.sh KEYDIR [DROPIN]: the repository account can no longer log in (its key pair
# goes; its sshd drop-in went back as a managed file, or goes here for a repository recorded before
# the engine managed it). The images and the account that owns them stay: they are data.
set -eu
rm -rf -- "$1"
if [ -n "${2:-}" ]; then rm -f -- "$2"; fi
sshd -t
systemctl reload ssh
