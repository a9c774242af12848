#!/bin/sh
# appserver-users.sh: makes the users on stdin exist, one per line:
#   NAME<TAB>UID (or -)<TAB>HOME<TAB>SHELL<TAB>HASH (SHA-512 crypt, or - for no password)
# A missing user is created with its home (from /etc/skel) and a group of its own; an existing
# one gets the shell and home given (its files stay where they are) and a home if it has none.
# A home it creates is 0750.
# The hash goes to chpasswd -e on its stdin: it is never an argument (ps, the audit log).
# Prints "created NAME" for each user it created.
set -eu
tab=$(printf '\t')
while IFS=$tab read -r name uid home shell hash; do
    [ -n "$name" ] || continue
    if ! getent passwd "$name" >/dev/null; then
        if [ "$uid" = - ]; then
            useradd --create-home --home-dir "$home" --shell "$shell" --user-group "$name"
        else
            useradd --create-home --home-dir "$home" --shell "$shell" --user-group --uid "$uid" "$name"
        fi
        # Pupils do not read each other's homes (useradd's default follows UMASK: 0755 on Debian).
        chmod 0750 "$home"
        echo "created $name"
    else
        usermod --shell "$shell" --home "$home" "$name"
        if [ "$uid" != - ] && [ "$(id -u "$name")" != "$uid" ]; then
            echo "user $name exists with uid $(id -u "$name"), not $uid: change it by hand (its files carry the old uid)" >&2
            exit 1
        fi
    fi
    if [ ! -d "$home" ]; then
        mkdir -p "$home"
        cp -a /etc/skel/. "$home"/
        chown -R "$name:" "$home"
        chmod 0750 "$home"
    fi
    if [ "$hash" != - ]; then
        printf '%s:%s\n' "$name" "$hash" | chpasswd -e
    fi
done
