#!/bin/sh
# write-file.sh DST MODE OWNER SHA256 JOURNAL BACKUP: replaces DST with stdin atomically.
# Before anything changes, the file as it is (content, mode, owner) is saved in the apply's
# JOURNAL (once per path per apply; empty: no journal), so journal-restore.sh can put it back.
# BACKUP (empty: none) is where a file that was there before this project managed DST is kept
# for delete to restore; an existing BACKUP is never overwritten (it holds the original), and
# the script prints "backup" when one is kept. ROOT (optional) confines DST: its directory, links
# followed, must lie inside ROOT (an image's chroot, whose own links could point at the server's
# files), or nothing is written. The content goes to
# a temporary file in the same directory, is checked against SHA256, flushed, then renamed over
# DST: a reader (or a crash) sees the whole old file or the whole new one. OWNER empty keeps the
# owner of the file being replaced (root for a new file).
set -eu
dst=$1 mode=$2 owner=$3 expected=$4 journal=$5 backup=$6 root=${7:-}
dir=$(dirname -- "$dst")
if [ -n "$root" ]; then
  existing=$dir
  while [ ! -e "$existing" ]; do existing=$(dirname -- "$existing"); done
  real=$(cd -P -- "$existing" && pwd) realroot=$(cd -P -- "$root" && pwd)
  case "$real/" in
    "$realroot"/*) ;;
    *) echo "$dst would be written outside $root (at $real, through a link)" >&2; exit 1 ;;
  esac
  if [ -L "$dst" ]; then echo "$dst is a link; refusing to write through it" >&2; exit 1; fi
fi
if [ -n "$journal" ]; then
  mkdir -p -- "$journal/files"
  touch -- "$journal/index"
  if ! cut -f2- "$journal/index" | grep -qxF -- "$dst"; then
    n=$(($(wc -l <"$journal/index") + 1))
    if [ -e "$dst" ] || [ -L "$dst" ]; then
      cp -p -- "$dst" "$journal/files/$n"
      printf '%s\t%s\n' "$n" "$dst" >>"$journal/index"
    else
      printf '%s\t%s\n' "-" "$dst" >>"$journal/index"
    fi
    sync -- "$journal/index"
  fi
fi
if [ -n "$backup" ] && [ ! -e "$backup" ] && [ -e "$dst" ]; then
  mkdir -p -- "$(dirname -- "$backup")"
  cp -p -- "$dst" "$backup"
fi
if [ -n "$backup" ] && [ -e "$backup" ]; then echo backup; fi
mkdir -p -- "$dir"
tmp=$(mktemp -- "$dir/.netboot.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat >"$tmp"
chmod "$mode" -- "$tmp"
if [ -n "$owner" ]; then chown -- "$owner" "$tmp"
elif [ -e "$dst" ]; then chown -- "$(stat -c %u:%g -- "$dst")" "$tmp"; fi
actual=$(sha256sum -- "$tmp" | cut -d' ' -f1)
if [ "$actual" != "$expected" ]; then echo "content arrived damaged ($actual)" >&2; exit 1; fi
# Flush the data before the rename makes it visible, and the directory after.
sync -- "$tmp"
mv -f -- "$tmp" "$dst"
trap - EXIT
sync -- "$dir"
