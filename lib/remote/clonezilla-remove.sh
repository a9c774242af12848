#!/bin/sh
# clonezilla-remove.sh DROPIN KEYDIR: the repository account can no longer log in (its sshd
# drop-in and key pair go); the images and the account that owns them stay: they are data.
set -eu
rm -f -- "$1"
rm -rf -- "$2"
sshd -t
systemctl reload ssh
