#!/bin/sh
# restart-if-active.sh UNIT: a running daemon drops configuration that was restored or removed.
if systemctl is-active --quiet "$1"; then systemctl restart "$1"; fi
