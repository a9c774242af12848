#!/bin/sh
# ldminfod-enable.sh SOCKET: systemd reads the (new) unit files, then SOCKET is enabled and
# (re)started so that it listens with them; it must be active afterwards.
set -eu
systemctl daemon-reload
systemctl enable --quiet "$1"
systemctl restart "$1"
systemctl is-active --quiet "$1"
