#!/bin/sh
# read-file.sh PATH: the file as base64 on one line; exit 3 when it does not exist.
[ -e "$1" ] || exit 3
base64 -w0 <"$1"
