#!/bin/sh
# service-journal.sh UNIT: the unit's last journal lines, to explain a failed restart.
journalctl -u "$1" -n 20 --no-pager 2>&1
