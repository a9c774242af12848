#!/bin/sh
# audit.sh WHAT SCRIPT ARG...: every command that changes a host first appends one line to the
# host's mutation log (the audit trail tests count), then runs SCRIPT with ARG... as $1..$n.
log=/var/log/netboot/mutations.log
what=$1 script=$2
shift 2
mkdir -p "$(dirname "$log")" &&
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(printf '%s' "$what" | tr '\n' ' ')" >>"$log" || exit 1
exec sh -c "$script" netboot "$@"
