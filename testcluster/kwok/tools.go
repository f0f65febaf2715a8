//go:build tools

// Package tools pins the kwok controller the test suite builds from this module.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
