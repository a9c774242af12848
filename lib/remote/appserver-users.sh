#!/bin/sh
# appserver-users.sh OWNER: makes the users on stdin exist, one per line:
#   NAME<TAB>UID (or -)<TAB>HOME<TAB>SHELL<TAB>PASSWORD<TAB>OURS (1/0)
# PASSWORD is a SHA-512 crypt hash, "-" to leave the password as it is, or "!" to lock the
# account (usermod -L: its password no longer opens it).
# A missing user is created with its home (from /etc/skel) and a group of its own, and marked as
# OWNER's: /var/lib/netboot/owned/account/NAME/.owner holds OWNER on its first line and "uid N" on
# its second (delete removes only marked accounts). The mark is written before useradd (a crash
# between them leaves a mark and no account, never an account without its mark) and removed
# again when useradd fails; OURS=1 on an existing account writes a missing mark (an account
# created before marks existed) or takes over another resource's of the stack (a renamed AppServer). An existing account gets the shell and home given (its files
# stay where they are) and a home if it has none. A home it creates is 0750.
# The hash goes to chpasswd -e on its stdin: it is never an argument (ps, the audit log).
# Prints "created NAME" for each user it created.
set -eu
owner=$1
owned=/var/lib/netboot/owned/account
tab=$(printf '\t')
mark() { # NAME UID
    mkdir -p "$owned/$1"
    printf '%s\nuid %s\n' "$owner" "$2" >"$owned/$1/.owner.tmp"
    mv -f "$owned/$1/.owner.tmp" "$owned/$1/.owner"
}
while IFS=$tab read -r name uid home shell password ours; do
    [ -n "$name" ] || continue
    if ! getent passwd "$name" >/dev/null; then
        mark "$name" "${uid#-}"
        if [ "$uid" = - ]; then
            useradd --create-home --home-dir "$home" --shell "$shell" --user-group "$name" || { rm -rf -- "${owned:?}/$name"; exit 1; }
        else
            useradd --create-home --home-dir "$home" --shell "$shell" --user-group --uid "$uid" "$name" || { rm -rf -- "${owned:?}/$name"; exit 1; }
        fi
        mark "$name" "$(id -u "$name")"
        # Pupils do not read each other's homes (useradd's default follows UMASK: 0755 on Debian).
        chmod 0750 "$home"
        echo "created $name"
    else
        if [ "$uid" != - ] && [ "$(id -u "$name")" != "$uid" ]; then
            echo "user $name exists with uid $(id -u "$name"), not $uid: change it by hand (its files carry the old uid)" >&2
            exit 1
        fi
        usermod --shell "$shell" --home "$home" "$name"
        if [ "$ours" = 1 ] && [ "$(sed -n 1p "$owned/$name/.owner" 2>/dev/null)" != "$owner" ]; then mark "$name" "$(id -u "$name")"; fi
    fi
    if [ ! -d "$home" ]; then
        mkdir -p "$home"
        cp -a /etc/skel/. "$home"/
        chown -R "$name:" "$home"
        chmod 0750 "$home"
    fi
    case $password in
        -) ;;
        '!') usermod --lock "$name" ;;
        *) printf '%s:%s\n' "$name" "$password" | chpasswd -e ;;
    esac
done
