#!/bin/sh
# daemon-reload.sh: systemd re-reads unit files (after some were written or removed).
systemctl daemon-reload
