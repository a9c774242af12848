#!/bin/sh
# link.sh PATH TARGET: PATH becomes a symbolic link to the directory TARGET (a link already at
# PATH is replaced, never followed).
set -e
[ -d "$2" ] || { echo "$2 is not a directory" >&2; exit 1; }
ln -sfn -- "$2" "$1"
