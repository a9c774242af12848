#!/bin/sh
# reload-service.sh SERVICE: the daemon rereads its configuration and keeps what runs (sshd: open
# sessions, this very connection).
set -eu
systemctl reload "$1"
