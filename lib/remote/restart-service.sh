#!/bin/sh
# restart-service.sh UNIT: restarts UNIT and checks that it stays up.
set -eu
systemctl restart "$1"
systemctl is-active --quiet "$1"
