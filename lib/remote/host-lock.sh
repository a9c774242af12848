#!/bin/sh
# host-lock.sh LOCK HOLDER: takes the host's apply lock and holds it for as long as this command's
# standard input stays open, that is, for the life of the connection of the run that took it (the
# connection ends, sshd closes the pipe, cat ends, the lock goes with it: no stale lock survives
# its run). One stack changes a host at a time. Prints "locked" once it holds the lock; when
# another run holds it, prints "busy<TAB>its holder line" and exits 75. The holder line is HOLDER,
# this process's pid (to end a lock our own dropped connection left) and since when.
set -eu
lock=$1 holder=$2
mkdir -p -- "$(dirname -- "$lock")"
exec 9>>"$lock"
if ! flock -n 9; then
  printf 'busy\t%s\n' "$(cat -- "$lock.holder" 2>/dev/null || echo 'an unknown run')"
  exit 75
fi
printf '%s\t%s\t%s\n' "$holder" "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$lock.holder"
echo locked
exec cat >/dev/null
