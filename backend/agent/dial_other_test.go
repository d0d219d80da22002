//go:build !linux

package agent_test

// dialAsIs is the other user's dialer of endpoint_linux_test.go.
func dialAsIs(string) int { return 2 }

// listenAsIs is the impostor of endpoint_linux_test.go.
func listenAsIs(string) int { return 2 }
