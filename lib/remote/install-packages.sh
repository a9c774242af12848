#!/bin/sh
# install-packages.sh PROXY PACKAGE...: apt-get install through PROXY (empty: none), waiting for a
# dpkg lock held by anything else.
set -eu
if [ -n "$1" ]; then export http_proxy="$1"; fi
shift
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "$@"
