//go:build !linux && !windows

package scratch

import "syscall"

// No parent-death signal here: Sweep stops an orphaned server next start.
func setParentDeathSignal(*syscall.SysProcAttr) {}
