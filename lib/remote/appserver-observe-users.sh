#!/bin/sh
# appserver-observe-users.sh NAME...: read-only. One line per user:
#   user<TAB>NAME<TAB>UID<TAB>HOME<TAB>SHELL<TAB>SHA256 of its shadow password field<TAB>home exists (1/0)
#   <TAB>locked (1: the field starts with ! or *)<TAB>the owner in its mark (or -)<TAB>the uid in its mark (or -)
# or user<TAB>NAME<TAB>- when there is no such user. The password hash itself is never printed.
# The mark is /var/lib/netboot/owned/account/NAME/.owner (the owner on its first line, "uid N" on
# its second), left by appserver-users.sh when it created the account.
# Then one line per account of the host (every passwd entry), for homes and uids two would share:
#   account<TAB>NAME<TAB>UID<TAB>HOME
owned=/var/lib/netboot/owned/account
for name in "$@"; do
    entry=$(getent passwd "$name") || { printf 'user\t%s\t-\n' "$name"; continue; }
    uid=$(printf '%s' "$entry" | cut -d: -f3)
    home=$(printf '%s' "$entry" | cut -d: -f6)
    shell=$(printf '%s' "$entry" | cut -d: -f7)
    field=$(getent shadow "$name" | cut -d: -f2 | tr -d '\n')
    sum=$(printf '%s' "$field" | sha256sum | cut -d' ' -f1)
    case $field in '!'* | '*'*) locked=1 ;; *) locked=0 ;; esac
    if [ -d "$home" ]; then has_home=1; else has_home=0; fi
    mark_owner=- mark_uid=-
    if [ -f "$owned/$name/.owner" ] && [ ! -L "$owned/$name/.owner" ]; then
        mark_owner=$(sed -n 1p "$owned/$name/.owner" | tr -d '\t')
        mark_uid=$(sed -n 's/^uid \([0-9][0-9]*\)$/\1/p' "$owned/$name/.owner" | head -n 1)
        [ -n "$mark_owner" ] || mark_owner=-
        [ -n "$mark_uid" ] || mark_uid=-
    fi
    printf 'user\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$uid" "$home" "$shell" "$sum" "$has_home" "$locked" "$mark_owner" "$mark_uid"
done
getent passwd | awk -F: '{ printf "account\t%s\t%s\t%s\n", $1, $3, $6 }'
