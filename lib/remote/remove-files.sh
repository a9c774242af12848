#!/bin/sh
# remove-files.sh PATH...: removes files (never directories).
rm -f -- "$@"
