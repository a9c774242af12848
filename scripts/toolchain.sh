#!/usr/bin/env bash
# Builds the pinned Pulumi toolchain from the Go module proxy, once, and prints its bin directory.
#
#   scripts/toolchain.sh          build if missing; print the bin directory
#
# Contents of the bin directory (nothing here is ever downloaded at run time):
#   pulumi                          the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at $PULUMI_VERSION,
#                                   built from tools/pulumi-cli (go.sum pins every module hash)
#   pulumi-language-nodejs          our Node.js language host, tools/pulumi-cli/cmd/pulumi-language-nodejs
#                                   (the upstream one cannot be had from the proxy: docs/toolchain.md)
#   pulumi-resource-pulumi-nodejs   the dynamic-provider plugin: node on @pulumi/pulumi/cmd/dynamic-provider
#
# NETBOOT_TOOLS_DIR (default ~/.cache/netboot-iac) is where builds are kept between clones.
set -euo pipefail

PULUMI_VERSION=v3.248.0
here=$(cd "$(dirname "$0")/.." && pwd)
tools_dir=${NETBOOT_TOOLS_DIR:-$HOME/.cache/netboot-iac}
bin=$tools_dir/pulumi-$PULUMI_VERSION/bin
src=$here/tools/pulumi-cli
# The build is keyed by the wrapper module's content, so a change to it rebuilds.
stamp=$(cat "$src/go.mod" "$src/go.sum" "$src"/cmd/*/*.go "$0" | sha256sum | cut -c1-16)

if [ -f "$bin/.stamp" ] && [ "$(cat "$bin/.stamp")" = "$stamp" ] &&
    [ "$("$bin/pulumi" version 2>/dev/null)" = "$PULUMI_VERSION" ]; then
    echo "$bin"
    exit 0
fi

command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "toolchain: Go is required (/usr/local/go/bin)" >&2; exit 1; }
mkdir -p "$bin"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
echo "toolchain: building pulumi $PULUMI_VERSION from the Go module proxy (a few minutes, once)" >&2
(
    cd "$src"
    # go.sum is committed and -mod=readonly refuses anything it does not pin; the checksum
    # database is not reachable from here, go.sum is what verifies each module. No VCS stamping:
    # the version comes from -ldflags, and a checkout need not be a git work tree.
    export GOFLAGS="-mod=readonly -buildvcs=false" GOSUMDB=off
    go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi.new" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi-language-nodejs.new" ./cmd/pulumi-language-nodejs
) >&2
mv -f "$bin/pulumi.new" "$bin/pulumi"
mv -f "$bin/pulumi-language-nodejs.new" "$bin/pulumi-language-nodejs"

cat >"$bin/pulumi-resource-pulumi-nodejs.new" <<'SH'
#!/bin/sh
# Pulumi's dynamic-provider plugin. The engine starts it in the program's directory, so the
# provider code comes from the project's own @pulumi/pulumi.
exec node "$(node -p 'require.resolve("@pulumi/pulumi/cmd/dynamic-provider", {paths: [process.cwd()]})')" "$@"
SH
chmod +x "$bin/pulumi-resource-pulumi-nodejs.new"
mv -f "$bin/pulumi-resource-pulumi-nodejs.new" "$bin/pulumi-resource-pulumi-nodejs"
echo "$stamp" >"$bin/.stamp"
echo "$bin"
