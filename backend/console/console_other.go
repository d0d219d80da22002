//go:build !windows

package console

// AttachParent returns std: only a Windows GUI-subsystem program starts
// without usable standard streams.
func AttachParent(std Streams) (Streams, error) { return std, nil }
