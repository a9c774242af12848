#!/usr/bin/env bash
# Installs everything this project needs on a fresh machine of its kind (Debian 12, root, Node 20,
# Go), and returns at once when all of it is already there:
#   - host packages for the lab (debootstrap, systemd-nspawn, apt-cacher-ng, QEMU, ...)
#   - shellcheck (the test command checks every remote script, lib/remote/*.sh) and dnsmasq-base
#     (the unit tests ask `dnsmasq --test` about the rendered configs; no daemon is started)
#   - npm packages, exactly as package-lock.json pins them (install scripts off: they download)
#   - the pinned Pulumi CLI and plugins (scripts/toolchain.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$root/lab/netboot-lab" install-deps
test_tools=()
command -v shellcheck >/dev/null || test_tools+=(shellcheck)
[ -x /usr/sbin/dnsmasq ] || test_tools+=(dnsmasq-base)
# Prometheus: the monitoring lab test runs it here (not as a service) against the lab server's node exporter.
command -v prometheus >/dev/null || test_tools+=(prometheus)
if [ "${#test_tools[@]}" -gt 0 ]; then
    echo "setup: apt-get install ${test_tools[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${test_tools[@]}" >/dev/null
    # On a machine run by systemd the package starts its own Prometheus service; the test needs none.
    if [[ " ${test_tools[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
        systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
fi

stamp=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.netboot-stamp 2>/dev/null)" != "$stamp" ]; then
    # `npm install` with the committed lock installs exactly what it pins. (`npm ci` would be the
    # usual choice, but npm 11 writes locks without the other platforms' optional packages and
    # then `npm ci` refuses its own lock.)
    echo "setup: npm install (package-lock.json)" >&2
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2
    echo "$stamp" >node_modules/.netboot-stamp
fi

"$root/scripts/toolchain.sh" >/dev/null
