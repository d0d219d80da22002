package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// On Windows the login item is a value of the user's Run key. Task
// Manager's Startup tab switches such an item off without deleting it, in
// the StartupApproved key beside it.

const (
	runKeyPath      = `Software\Microsoft\Windows\CurrentVersion\Run`
	approvedKeyPath = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Enabled reports whether PgSafe starts at login: its Run value is there
// and not switched off in Task Manager.
func Enabled() (bool, error) { return userRunKey().enabled() }

// Enable sets HKCU\…\Run\PgSafe to run command at login, and clears a
// switch-off by Task Manager so that the setting is what the user just
// chose.
func Enable(command []string) (Item, error) {
	if err := checkCommand(command); err != nil {
		return Item{}, err
	}
	k := userRunKey()
	if err := k.enable(command); err != nil {
		return Item{}, err
	}
	return Item{Kind: RunKey, Where: `HKCU\` + k.run + `\` + k.name}, nil
}

// Disable deletes the Run value (and Task Manager's switch for it).
func Disable() error { return userRunKey().disable() }

// Migrate does nothing on Windows: no older PgSafe wrote a login item here.
func Migrate() (bool, error) { return false, nil }

// runKey is a Run value under HKEY_CURRENT_USER (the tests use a key of
// their own).
type runKey struct {
	run, approved, name string
}

func userRunKey() runKey {
	return runKey{run: runKeyPath, approved: approvedKeyPath, name: RunValueName}
}

func (r runKey) enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, r.run, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the Run key: %w", err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(r.name); errors.Is(err, registry.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("reading the Run value: %w", err)
	}
	return !r.switchedOff(), nil
}

// switchedOff: Task Manager's StartupApproved value for the item has bit 0
// of its first byte set (03…: disabled; 02…: enabled).
func (r runKey) switchedOff() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, r.approved, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	b, _, err := k.GetBinaryValue(r.name)
	return err == nil && len(b) > 0 && b[0]&1 == 1
}

func (r runKey) enable(command []string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, r.run, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("opening the Run key: %w", err)
	}
	defer k.Close()
	if err := k.SetStringValue(r.name, RunValue(command)); err != nil {
		return fmt.Errorf("writing the Run value: %w", err)
	}
	return r.clearSwitch()
}

func (r runKey) disable() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, r.run, registry.SET_VALUE)
	if err == nil {
		err = k.DeleteValue(r.name)
		k.Close()
	}
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("deleting the Run value: %w", err)
	}
	return r.clearSwitch()
}

func (r runKey) clearSwitch() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, r.approved, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = k.DeleteValue(r.name)
		k.Close()
	}
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("clearing Task Manager's startup switch: %w", err)
	}
	return nil
}
