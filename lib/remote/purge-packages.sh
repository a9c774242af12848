#!/bin/sh
# purge-packages.sh PACKAGE...
set -eu
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$@"
