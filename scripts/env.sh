# shellcheck shell=bash
# Source this file (`. scripts/env.sh`) for a shell where `pulumi` is the pinned CLI, its plugins
# are on PATH, nothing is ever downloaded, and state goes to a local file:// backend in
# .pulumi-state/ unless PULUMI_BACKEND_URL says otherwise.
NETBOOT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
PATH="$("$NETBOOT_ROOT/scripts/toolchain.sh"):$NETBOOT_ROOT/node_modules/.bin:$PATH"
export PATH NETBOOT_ROOT
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$NETBOOT_ROOT/.pulumi-state}"
mkdir -p "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true
