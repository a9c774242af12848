#!/bin/sh
# key-door-setup.sh DOOR DIR ACCOUNT FROM SECRET_SOURCE: the server side of a key door (lib/keydoor),
# run as root. Idempotent; a key pair made here is kept.
# - ACCOUNT: a system account, no password, home DIR (root-owned: sshd's StrictModes);
# - DIR/request, DIR/request.pub: the asking key, made here once. Its private half goes into the
#   boot image (readable by anyone on the LAN by design): it opens this door and nothing else;
# - DIR/.ssh/authorized_keys: that key, `restrict`, `from="FROM"` (the clients' networks) and
#   `command=` DIR/serve (written by the engine, with DIR/allow);
# - DIR/known_hosts: this server's ed25519 host key under the alias netboot-door (pinned in the image);
# - DIR/secret: a copy of SECRET_SOURCE, root:ACCOUNT 0440 (the door's account reads it, nobody else);
# - DIR/from: FROM, so that the engine sees when the networks change.
set -eu
door=$1 dir=$2 account=$3 from=$4 source=$5

[ -f "$source" ] || { echo "key door $door: $source does not exist on this server" >&2; exit 1; }
[ -f /etc/ssh/ssh_host_ed25519_key.pub ] || { echo "this server has no ed25519 host key" >&2; exit 1; }
if ! getent passwd "$account" >/dev/null; then
    useradd --system --user-group --home-dir "$dir" --no-create-home --shell /bin/sh \
        --comment "netboot key door $door" "$account"
fi
install -d -o root -g root -m 0755 "$(dirname -- "$dir")" "$dir" "$dir/.ssh"
if [ ! -f "$dir/request" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "netboot-door-$door@$(hostname)" -f "$dir/request"
fi
chmod 0600 "$dir/request"
umask 022
printf 'restrict,from="%s",command="%s/serve" %s netboot-door-%s\n' "$from" "$dir" "$(cut -d' ' -f1,2 "$dir/request.pub")" "$door" \
    >"$dir/.ssh/authorized_keys.new"
mv -f "$dir/.ssh/authorized_keys.new" "$dir/.ssh/authorized_keys"
printf 'netboot-door %s\n' "$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" >"$dir/known_hosts"
install -o root -g "$account" -m 0440 "$source" "$dir/secret.new"
mv -f "$dir/secret.new" "$dir/secret"
printf '%s\n' "$from" >"$dir/from"
