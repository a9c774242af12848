#!/bin/sh
# observe.sh NFILES NSERVICES FILE... SERVICE... PACKAGE...: one read-only round trip.
# Prints one line per item: file<TAB>sha256|-<TAB>path, service<TAB>unit<TAB>active<TAB>enabled,
# package<TAB>name<TAB>status<TAB>version (dpkg-query's, installed packages only).
nfiles=$1 nservices=$2
shift 2
i=0
while [ "$i" -lt "$nfiles" ]; do
  f=$1; shift; i=$((i + 1))
  if [ -f "$f" ]; then printf 'file\t%s\t%s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
  else printf 'file\t-\t%s\n' "$f"; fi
done
i=0
while [ "$i" -lt "$nservices" ]; do
  s=$1; shift; i=$((i + 1))
  printf 'service\t%s\t%s\t%s\n' "$s" "$(systemctl is-active "$s" 2>/dev/null)" "$(systemctl is-enabled "$s" 2>/dev/null || echo not-found)"
done
if [ $# -gt 0 ]; then
  # shellcheck disable=SC2016 # ${Package} etc. are dpkg-query's fields, not shell expansions
  dpkg-query -W -f='package\t${Package}\t${db:Status-Status}\t${Version}\n' "$@" 2>/dev/null || true
fi
