#!/bin/sh
# journal-commit.sh JOURNAL: the apply succeeded; its saved copies are no longer needed.
rm -rf -- "$1"
