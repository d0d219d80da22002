package keys

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. The errors returned carry more context; test with errors.Is.
var (
	// ErrKeychainUnavailable: the OS keychain cannot be used (no Secret Service, no
	// session bus, locked, unsupported platform). Returned as a *KeychainError.
	ErrKeychainUnavailable = errors.New("the system keychain is not available")
	// ErrNoMasterKey: no master key has been created or imported on this machine yet.
	ErrNoMasterKey = errors.New("no master key on this machine yet")
	// ErrWrongPassphrase: a protected key file or recovery kit did not open with the
	// passphrase given (the checksums of its text passed, so the kit itself is intact).
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrKeyFileMode: an unprotected key file can be read by other users.
	ErrKeyFileMode = errors.New("key file is readable by other users")
	// ErrWeakPassphrase: a new passphrase is empty or too short.
	ErrWeakPassphrase = errors.New("passphrase too short")
	// ErrKitDamaged: a recovery kit (file or typed text) is malformed or has a typo.
	ErrKitDamaged = errors.New("recovery kit is damaged")
)

// KeychainError says why the OS keychain could not be used and what to do about
// it. It matches ErrKeychainUnavailable and unwraps to the keychain's own error.
type KeychainError struct {
	Op     string // "read", "store"
	Reason string // short, human: "no Secret Service on the session bus", "the keychain is locked", …
	Err    error  // the underlying error (from go-keyring / D-Bus); never holds a secret
}

func (e *KeychainError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the system keychain is not available (%s): ", e.Reason)
	b.WriteString("unlock or install a keychain (gnome-keyring, KWallet), or choose a passphrase-protected key file with `pgsafe key init --key-file-protected FILE`")
	if e.Err != nil {
		fmt.Fprintf(&b, " [keychain %s: %v]", e.Op, e.Err)
	}
	return b.String()
}

func (e *KeychainError) Unwrap() []error { return []error{ErrKeychainUnavailable, e.Err} }

// KitTypoError locates a typo in the text form of a recovery kit.
type KitTypoError struct {
	Line int // 1-based line number of the kit's data lines
	// Char is the 1-based position (counting data characters of the line, without
	// spaces and without the checksum) of the one character that is probably
	// wrong, or 0 when it cannot be pinned down.
	Char   int
	Detail string
}

func (e *KitTypoError) Error() string {
	msg := fmt.Sprintf("recovery kit line %d has a typo: %s", e.Line, e.Detail)
	if e.Char > 0 {
		msg += fmt.Sprintf(" (probably character %d, in group %d)", e.Char, (e.Char-1)/kitGroup+1)
	}
	return msg + "; compare it with the printed kit"
}

func (e *KitTypoError) Unwrap() error { return ErrKitDamaged }
