//go:build tools

// Package tools pins the flanneld command the lab builds; it is never compiled.
package tools

import (
	_ "github.com/flannel-io/flannel"
)
