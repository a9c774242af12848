#!/bin/sh
# restart-or-stop.sh UNIT: the daemon restarted on the restored files, or stopped if they do not serve.
systemctl restart "$1" 2>/dev/null || systemctl stop "$1"
