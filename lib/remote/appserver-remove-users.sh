#!/bin/sh
# appserver-remove-users.sh REMOVE_HOMES NAME...: removes users this project created (their
# sessions are ended first); their homes too when REMOVE_HOMES is 1.
set -eu
remove_homes=$1
shift
for name in "$@"; do
    getent passwd "$name" >/dev/null || continue
    loginctl terminate-user "$name" 2>/dev/null || true
    if [ "$remove_homes" = 1 ]; then userdel --remove "$name" 2>/dev/null || userdel --remove --force "$name"
    else userdel "$name" 2>/dev/null || userdel --force "$name"; fi
done
