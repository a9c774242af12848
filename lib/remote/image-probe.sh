#!/bin/sh
# image-probe.sh CHROOT LINK_TARGET IMAGE MARKER TFTP: before an image resource creates anything,
# which of its paths already hold something netboot did not make (prints "foreign<TAB>PATH"), and
# which already hold what it would make but were there before it (a link to the same source:
# "present<TAB>PATH", used but never removed by delete).
# Ours: a chroot carrying .netboot-build, a link to LINK_TARGET (a path source), an image or a
# TFTP kernel directory with our build MARKER. CHROOT empty: the source uses no chroot of ours.
# Changes nothing.
chroot=$1 target=$2 image=$3 marker=$4 tftp=$5
if [ -n "$chroot" ]; then
  if [ -L "$chroot" ]; then
    if [ -n "$target" ] && [ "$(readlink "$chroot")" = "$target" ]; then printf 'present\t%s\n' "$chroot"
    else printf 'foreign\t%s\n' "$chroot"; fi
  elif [ -e "$chroot" ] && [ ! -f "$chroot/.netboot-build" ]; then
    printf 'foreign\t%s\n' "$chroot"
  fi
fi
if [ -e "$image" ] && [ ! -f "$marker" ]; then printf 'foreign\t%s\n' "$image"; fi
if [ -e "$tftp" ] && [ ! -f "$marker" ]; then printf 'foreign\t%s\n' "$tftp"; fi
exit 0
