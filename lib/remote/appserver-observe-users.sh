#!/bin/sh
# appserver-observe-users.sh NAME...: read-only. One line per user:
#   user<TAB>NAME<TAB>UID<TAB>HOME<TAB>SHELL<TAB>SHA256 of its shadow password field<TAB>home exists (1/0)
# or user<TAB>NAME<TAB>- when there is no such user. The password hash itself is never printed.
for name in "$@"; do
    entry=$(getent passwd "$name") || { printf 'user\t%s\t-\n' "$name"; continue; }
    uid=$(printf '%s' "$entry" | cut -d: -f3)
    home=$(printf '%s' "$entry" | cut -d: -f6)
    shell=$(printf '%s' "$entry" | cut -d: -f7)
    sum=$(getent shadow "$name" | cut -d: -f2 | tr -d '\n' | sha256sum | cut -d' ' -f1)
    if [ -d "$home" ]; then has_home=1; else has_home=0; fi
    printf 'user\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$uid" "$home" "$shell" "$sum" "$has_home"
done
