#!/bin/sh
# appserver-remove-users.sh OWNER REMOVE_HOMES NAME...: removes accounts this project created:
# only one marked as OWNER's (/var/lib/netboot/owned/account/NAME/.owner: OWNER on its first
# line, "uid N" on its second, N its uid now) and a regular user (uid 1000-59999); any other is
# kept and named ("kept NAME: why"). Its sessions are ended first; its home goes too only when
# REMOVE_HOMES is 1. Prints "removed NAME" for each.
set -eu
owner=$1 remove_homes=$2
shift 2
owned=/var/lib/netboot/owned/account
for name in "$@"; do
    entry=$(getent passwd "$name") || { rm -rf -- "${owned:?}/$name"; continue; }
    uid=$(printf '%s' "$entry" | cut -d: -f3)
    if [ "$uid" -lt 1000 ] || [ "$uid" -gt 59999 ]; then echo "kept $name: a system account (uid $uid)"; continue; fi
    mark="$owned/$name/.owner"
    if [ ! -f "$mark" ] || [ -L "$mark" ] || [ "$(sed -n 1p "$mark")" != "$owner" ] || ! grep -qx "uid $uid" "$mark"; then
        echo "kept $name: not marked as created by $owner"
        continue
    fi
    loginctl terminate-user "$name" 2>/dev/null || true
    if [ "$remove_homes" = 1 ]; then userdel --remove "$name" 2>/dev/null || userdel --remove --force "$name"
    else userdel "$name" 2>/dev/null || userdel --force "$name"; fi
    rm -rf -- "${owned:?}/$name"
    echo "removed $name"
done
