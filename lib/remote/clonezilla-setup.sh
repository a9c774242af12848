#!/bin/sh
# Server side of the Clonezilla image repository (run as root on the boot server), a step of
# ClonezillaRepository's plan (the sshd drop-in that confines the account is a file the engine writes).
#
#   clonezilla-setup.sh REPOSITORY IMAGES_DIR ACCOUNT KEY_DIR HOST_KEY_ALIAS FROM
#
# - ACCOUNT: a system account with no password and no shell, home REPOSITORY;
# - REPOSITORY: root-owned, not writable by others (sshd's ChrootDirectory demands it of every
#   component of the path); REPOSITORY/IMAGES_DIR belongs to ACCOUNT, mode 0700;
# - KEY_DIR/client/id_ed25519: the key pair made for the repository, generated here once and
#   never sent anywhere by this script (the image build copies it into the Clonezilla chroot on
#   this same server);
# - KEY_DIR/authorized_keys: that key, `restrict` and `from="FROM"` (the client networks);
# - KEY_DIR/client/known_hosts: this server's ed25519 host key under HOST_KEY_ALIAS.
# Idempotent: an existing key is kept. Its facts are clonezilla-facts.sh's to read.
set -eu
repo=$1 images=$2 account=$3 keys=$4 alias=$5 from=$6

case "$repo" in /*) ;; *) echo "repository $repo is not an absolute path" >&2; exit 1 ;; esac

if ! getent passwd "$account" >/dev/null; then
    useradd --system --user-group --home-dir "$repo" --no-create-home --shell /usr/sbin/nologin \
        --comment "Clonezilla image repository (netboot)" "$account"
fi

install -d -o root -g root -m 0755 "$repo"
# ChrootDirectory: every component must be owned by root and writable by nobody else.
dir=$repo
while [ "$dir" != / ]; do
    owner_mode=$(stat -c '%u %a' "$dir")
    case "$owner_mode" in
        "0 "*) ;;
        *) echo "$dir is not owned by root ($owner_mode): sshd refuses it as the repository's ChrootDirectory" >&2; exit 1 ;;
    esac
    mode=${owner_mode#0 }
    if [ $(( 0$mode & 022 )) -ne 0 ]; then
        echo "$dir is writable by group or others (mode $mode): sshd refuses it as the repository's ChrootDirectory" >&2
        exit 1
    fi
    dir=$(dirname "$dir")
done
install -d -o "$account" -g "$account" -m 0700 "$repo/$images"

# sshd reads AuthorizedKeysFile as the account (and StrictModes checks no one else may write it):
# the directory is readable, the private half stays in client/, root only.
install -d -o root -g root -m 0755 "$keys"
install -d -o root -g root -m 0700 "$keys/client"
if [ ! -f "$keys/client/id_ed25519" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "netboot-ocs@$(hostname)" -f "$keys/client/id_ed25519"
fi
chmod 0600 "$keys/client/id_ed25519"

pub=$(cut -d' ' -f1,2 "$keys/client/id_ed25519.pub")
umask 022
printf 'restrict,from="%s" %s netboot-ocs\n' "$from" "$pub" >"$keys/authorized_keys.new"
mv -f "$keys/authorized_keys.new" "$keys/authorized_keys"
chmod 0644 "$keys/authorized_keys"

[ -f /etc/ssh/ssh_host_ed25519_key.pub ] || { echo "this server has no ed25519 host key" >&2; exit 1; }
printf '%s %s\n' "$alias" "$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" >"$keys/client/known_hosts"
