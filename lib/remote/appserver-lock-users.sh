#!/bin/sh
# appserver-lock-users.sh NAME...: locks each regular account (uid 1000-59999) named
# (usermod --lock: its password no longer opens it); an absent one or a system account is
# left as it is. For an adopted account that left the config with the password this project
# had set: it is not removed (it was there before), but not left with that password either.
set -eu
for name in "$@"; do
    entry=$(getent passwd "$name") || continue
    uid=$(printf '%s' "$entry" | cut -d: -f3)
    if [ "$uid" -lt 1000 ] || [ "$uid" -gt 59999 ]; then continue; fi
    usermod --lock "$name"
done
