#!/bin/sh
# check-candidate.sh COMMAND: the content on stdin goes to a temporary file, COMMAND (the daemon's
# own check, e.g. 'dnsmasq --test --conf-file="$1"') runs with that file as $1. Its output and exit
# status are the answer; nothing on the host changes.
command=$1
t=$(mktemp)
trap 'rm -f -- "$t"' EXIT
cat >"$t"
sh -c "$command" check "$t" 2>&1
