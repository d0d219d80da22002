//go:build !windows

package scratch

// freePort is not needed where the server listens only on its Unix socket.
func freePort() (int, error) { return socketPort, nil }
