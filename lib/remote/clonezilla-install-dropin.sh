#!/bin/sh
# clonezilla-install-dropin.sh DROPIN: puts DROPIN.netboot-new in place only if sshd accepts the
# whole configuration with it; else the old drop-in comes back. A reload keeps open sessions.
set -eu
dropin=$1
if [ -f "$dropin" ]; then cp -p "$dropin" "$dropin.netboot-old"; else rm -f "$dropin.netboot-old"; fi
mv -f "$dropin.netboot-new" "$dropin"
if ! out=$(sshd -t 2>&1); then
  if [ -f "$dropin.netboot-old" ]; then mv -f "$dropin.netboot-old" "$dropin"; else rm -f "$dropin"; fi
  echo "sshd -t rejects the repository's sshd configuration: $out" >&2
  exit 1
fi
rm -f "$dropin.netboot-old"
systemctl reload ssh
