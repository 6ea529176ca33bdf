//go:build tools

// Package tools pins the code generators and linters the build runs with
// `go run`, so that nothing has to be installed globally.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
