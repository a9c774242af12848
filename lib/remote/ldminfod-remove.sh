#!/bin/sh
# ldminfod-remove.sh SOCKET: stops and disables SOCKET (its unit files are removed by the caller
# afterwards), then systemd forgets the removed units.
systemctl disable --now --quiet "$1" 2>/dev/null || true
