//go:build tools

// Package tools pins the Pulumi CLI as a dependency of this wrapper module, so that
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` resolves it from go.sum.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
