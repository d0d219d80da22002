//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keys

// keychainMissingReason: macOS and Windows keychains need no session bus.
func keychainMissingReason() string { return "" }
