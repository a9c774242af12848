#!/bin/sh
# restore-original.sh PATH [BACKUP]: delete's half of the bargain. With BACKUP, the saved original
# goes back (if someone removed the saved copy there is nothing to restore, and our file goes
# either way); without, the file we created goes.
set -eu
if [ -n "${2:-}" ] && [ -e "$2" ]; then mv -f -- "$2" "$1"; else rm -f -- "$1"; fi
