#!/bin/sh
# appserver-host-keys.sh: this server's SSH host public keys, one "TYPE BASE64" line each (no
# comment: it names the host as it was installed). The school stack pins them in the thin-client
# image (/etc/ssh/ssh_known_hosts), so a client talks to this server and to no impostor. Read-only.
# shellcheck shell=sh
set -eu
for key in /etc/ssh/ssh_host_*_key.pub; do
    [ -r "$key" ] || continue
    cut -d' ' -f1,2 "$key"
done
