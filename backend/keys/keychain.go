package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// The master key's item in the OS keychain (Secret Service on Linux, Keychain on
// macOS, Credential Manager on Windows, through github.com/zalando/go-keyring).
const (
	KeychainService = "PgSafe"
	KeychainAccount = "master-key"
)

// keychainValuePrefix starts the stored value: "pgsafe-master-key-v1:" ‖ key ID
// (hex) ‖ ":" ‖ base64(key). The ID lets a damaged item be told from a good one.
const keychainValuePrefix = "pgsafe-master-key-v1:"

// keychainTimeout bounds one keychain call. Unlocking may show the desktop's
// password prompt, so it is generous.
var keychainTimeout = 2 * time.Minute

// keychainGet reads the master key from the keychain: ErrNoMasterKey if there is
// none, a *KeychainError if the keychain cannot be used.
func keychainGet(ctx context.Context) (*MasterKey, error) {
	var value string
	err := keychainCall(ctx, "read", func() (err error) {
		value, err = keyring.Get(KeychainService, KeychainAccount)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w (the keychain has no %s item for %q)", ErrNoMasterKey, KeychainService, KeychainAccount)
	}
	if err != nil {
		return nil, err
	}
	mk, err := decodeKeychainValue(value)
	if err != nil {
		return nil, fmt.Errorf("the master key in the keychain (%s / %s) is damaged: %w; restore it with `pgsafe key import --replace KIT`",
			KeychainService, KeychainAccount, err)
	}
	return mk, nil
}

// keychainSet stores mk in the keychain, replacing what is there.
func keychainSet(ctx context.Context, mk *MasterKey) error {
	value := keychainPrefix(mk) + base64.StdEncoding.EncodeToString(mk.b[:])
	return keychainCall(ctx, "store", func() error {
		return keyring.Set(KeychainService, KeychainAccount, value)
	})
}

func keychainPrefix(mk *MasterKey) string { return keychainValuePrefix + mk.ID().String() + ":" }

func decodeKeychainValue(v string) (*MasterKey, error) {
	rest, ok := strings.CutPrefix(v, keychainValuePrefix)
	if !ok {
		return nil, errors.New("unknown encoding")
	}
	idText, keyText, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, errors.New("unknown encoding")
	}
	id, err := ParseKeyID(idText)
	if err != nil {
		return nil, errors.New("bad key ID")
	}
	raw, err := base64.StdEncoding.DecodeString(keyText)
	defer clear(raw)
	if err != nil || len(raw) != MasterKeySize {
		return nil, errors.New("bad key encoding")
	}
	mk, _ := MasterKeyFromBytes(raw)
	if mk.ID() != id {
		mk.Wipe()
		return nil, fmt.Errorf("its key has ID %s but the item says %s", mk.ID(), id)
	}
	return mk, nil
}

// keychainCall runs one go-keyring call with a timeout and turns failures other
// than "not found" into a *KeychainError.
func keychainCall(ctx context.Context, op string, call func() error) error {
	if reason := keychainMissingReason(); reason != "" {
		return &KeychainError{Op: op, Reason: reason}
	}
	ctx, cancel := context.WithTimeout(ctx, keychainTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call() }() // go-keyring takes no context; a hung call is abandoned
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		return &KeychainError{Op: op, Reason: "it did not answer in time", Err: ctx.Err()}
	}
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	return &KeychainError{Op: op, Reason: classifyKeychainError(err), Err: err}
}

// classifyKeychainError names the usual reasons in words a user can act on.
func classifyKeychainError(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return "PgSafe has no keychain support on this platform"
	case strings.Contains(msg, "org.freedesktop.secrets") || strings.Contains(msg, "ServiceUnknown"):
		return "no Secret Service on the session bus"
	case strings.Contains(msg, "unlock") || strings.Contains(msg, "locked"):
		return "the keychain is locked"
	case strings.Contains(msg, "dial ") || strings.Contains(msg, "session bus") || strings.Contains(msg, "no such file"):
		return "no D-Bus session bus"
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return "the keychain refused the item"
	default:
		return "the keychain failed"
	}
}

// keyringSet stores a raw value (tests use it to plant damaged items).
func keyringSet(value string) error { return keyring.Set(KeychainService, KeychainAccount, value) }
