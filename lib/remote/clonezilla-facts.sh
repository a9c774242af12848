#!/bin/sh
# clonezilla-facts.sh KEYDIR REPO IMAGES DROPIN: read-only, the facts of a Clonezilla repository
# (key fingerprints, saved images, the sshd drop-in's checksum) as KEY=VALUE lines, for refresh.
set -u
keys=$1 repo=$2 images=$3 dropin=$4
fp() { if [ -f "$1" ]; then ssh-keygen -lf "$1" | cut -d' ' -f2; else echo missing; fi; }
printf 'keyFingerprint=%s\n' "$(fp "$keys/client/id_ed25519.pub")"
printf 'hostKeyFingerprint=%s\n' "$(fp /etc/ssh/ssh_host_ed25519_key.pub)"
printf 'images=%s\n' "$(find "$repo/$images" -mindepth 2 -maxdepth 2 -name disk -printf '%h\n' 2>/dev/null | xargs -r -n1 basename | sort | tr '\n' ' ')"
if [ -f "$dropin" ]; then printf 'sshdConfig=%s\n' "$(sha256sum "$dropin" | cut -d' ' -f1)"; else printf 'sshdConfig=missing\n'; fi
