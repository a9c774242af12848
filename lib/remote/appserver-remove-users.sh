#!/bin/sh
# appserver-remove-users.sh OWNER REMOVE_HOMES HOME_BASE NAME...: removes accounts this project
# created: only one marked as OWNER's (/var/lib/netboot/owned/account/NAME/.owner: OWNER on its
# first line, "uid N" on its second, N its uid now) and a regular user (uid 1000-59999); any other
# is kept and named ("kept NAME: why"). Its sessions are ended first. Its home goes too only when
# REMOVE_HOMES is 1, and only a directory inside HOME_BASE (links followed: a home moved or linked
# elsewhere by hand is kept and named). Prints "removed NAME" for each account removed.
set -eu
owner=$1 remove_homes=$2 home_base=$3
shift 3
owned=/var/lib/netboot/owned/account
for name in "$@"; do
    entry=$(getent passwd "$name") || { rm -rf -- "${owned:?}/$name"; continue; }
    uid=$(printf '%s' "$entry" | cut -d: -f3)
    home=$(printf '%s' "$entry" | cut -d: -f6)
    if [ "$uid" -lt 1000 ] || [ "$uid" -gt 59999 ]; then echo "kept $name: a system account (uid $uid)"; continue; fi
    mark="$owned/$name/.owner"
    if [ ! -f "$mark" ] || [ -L "$mark" ] || [ "$(sed -n 1p "$mark")" != "$owner" ] || ! grep -qx "uid $uid" "$mark"; then
        echo "kept $name: not marked as created by $owner"
        continue
    fi
    loginctl terminate-user "$name" 2>/dev/null || true
    # userdel itself never removes the home (its --remove would, wherever the home is).
    userdel "$name" 2>/dev/null || userdel --force "$name"
    rm -rf -- "${owned:?}/$name"
    echo "removed $name"
    if [ "$remove_homes" = 1 ] && [ -d "$home" ]; then
        real=$(cd -P -- "$home" && pwd)
        base=$(cd -P -- "$home_base" 2>/dev/null && pwd) || base=$home_base
        case $real in
            "$base"/?*) rm -rf -- "$real" ;;
            *) echo "kept the home of $name: $home is not inside the home base $home_base" ;;
        esac
    fi
done
