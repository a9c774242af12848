#!/bin/sh
# enable-service.sh UNIT
systemctl enable --quiet "$1"
