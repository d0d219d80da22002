//go:build !unix

package testenv

import "testing"

func checkOwnedBy(*testing.T, string, string) {}
