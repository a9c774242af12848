#!/bin/sh
# Managed by netboot: fetches one secret this image does not carry from its key door on the server
# (the server's /var/lib/netboot/doors/DOOR/serve), over SSH with the door's asking key and the
# server's pinned host key, and installs it at DEST with OWNER and MODE. Run as root before the
# service that needs it (a unit's ExecStartPre=+...), so the service waits for its key.
#
#   netboot-fetch-secret DOOR SERVER DEST OWNER MODE
#
# A refusal (the door does not admit this machine) is final: exit 3 and the service stays down.
# No answer (the server still starting, a lost packet) is tried again for about a minute.
set -u
door=$1 server=$2 dest=$3 owner=$4 mode=$5
dir=/etc/netboot/doors/$door
tmp=$dest.netboot-new
# To the journal (stderr) and to the console: a diskless node keeps no log after it powers off.
say() {
    printf 'netboot-door: %s\n' "$*" >&2
    { printf 'netboot-door: %s\n' "$*" >/dev/console; } 2>/dev/null || true
}
umask 077
mkdir -p -- "$(dirname -- "$dest")"
tries=${NETBOOT_DOOR_TRIES:-30}
i=0
while :; do
    ssh -F /dev/null -i "$dir/request" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5 \
        -o UserKnownHostsFile="$dir/known_hosts" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
        -o HostKeyAlias=netboot-door -o LogLevel=ERROR -l "netboot-door-$door" "$server" >"$tmp" 2>"$tmp.err"
    status=$?
    [ $status -eq 0 ] && break
    if [ $status -eq 3 ]; then
        say "the $door key was refused by $server: $(tail -n 1 "$tmp.err")"
        rm -f -- "$tmp" "$tmp.err"
        exit 3
    fi
    i=$((i + 1))
    if [ $i -ge "$tries" ]; then
        say "no $door key from $server after $tries tries: $(tail -n 1 "$tmp.err")"
        rm -f -- "$tmp" "$tmp.err"
        exit 1
    fi
    sleep 2
done
rm -f -- "$tmp.err"
if [ ! -s "$tmp" ]; then
    say "the $door key from $server is empty"
    rm -f -- "$tmp"
    exit 1
fi
chown "$owner" "$tmp" && chmod "$mode" "$tmp" && mv -f -- "$tmp" "$dest" || exit 1
say "the $door key came from $server"
