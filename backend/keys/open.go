package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvKeyFile names the environment variable that, like --key-file, names an
// unprotected key file or a recovery kit to use instead of this machine's key.
const EnvKeyFile = "PGSAFE_KEY_FILE"

// SourceKind says where a master key came from.
type SourceKind string

const (
	// SourceKeychain: the OS keychain (the default).
	SourceKeychain SourceKind = "keychain"
	// SourceKeyFile: an unprotected key file named by --key-file or PGSAFE_KEY_FILE.
	SourceKeyFile SourceKind = "key-file"
	// SourceRecoveryKit: a recovery kit named by --key-file, --recovery-kit or
	// PGSAFE_KEY_FILE, opened with its passphrase.
	SourceRecoveryKit SourceKind = "recovery-kit"
	// SourceProtectedKeyFile: the passphrase-protected key file this machine was set
	// up with (keysource.json), on machines without a keychain.
	SourceProtectedKeyFile SourceKind = "protected-key-file"
)

// Source says where a master key came from; Path is empty for the keychain.
type Source struct {
	Kind SourceKind `json:"source"`
	Path string     `json:"path,omitempty"`
	// Created: Open created the key just now (first run, CreateIfMissing).
	// Open audits the creation through Audit; a caller whose audit log opens
	// only after the key (the engine) records it there too.
	Created bool `json:"-"`
}

func (s Source) String() string {
	if s.Path == "" {
		return string(s.Kind)
	}
	return string(s.Kind) + " " + s.Path
}

// PassphraseRequest says which protected key the passphrase is for.
type PassphraseRequest struct {
	KeyID  KeyID
	Source Source
}

// PassphraseFunc asks the user for the passphrase of a recovery kit or protected
// key file. The caller of Open wipes nothing: Open wipes the passphrase after use.
type PassphraseFunc func(ctx context.Context, req PassphraseRequest) (*Passphrase, error)

// Options tell Open where to look.
type Options struct {
	// KeyFile is an unprotected key file or a recovery kit to use instead of this
	// machine's key (--key-file). Empty: PGSAFE_KEY_FILE, if set.
	KeyFile string
	// Passphrase is asked when the key is protected; nil fails such keys.
	Passphrase PassphraseFunc
	// Home is the settings directory (paths.Home), where keysource.json lives.
	// Required unless a key file is given.
	Home string
	// CreateIfMissing creates a master key in the keychain if this machine has
	// none yet (first run). Without it, a machine without a key gets ErrNoMasterKey.
	CreateIfMissing bool
}

// Open finds the master key, in this order: the key file of opts.KeyFile or
// PGSAFE_KEY_FILE; the protected key file configured in Home/keysource.json; the
// OS keychain, where it is created on first run if opts.CreateIfMissing. It never
// falls back silently from one to the next: a keychain that cannot be used is a
// *KeychainError, not a reason to look elsewhere.
func Open(ctx context.Context, opts Options) (*MasterKey, Source, error) {
	if path := keyFilePath(opts); path != "" {
		return OpenFile(ctx, path, opts.Passphrase)
	}
	if opts.Home == "" {
		return nil, Source{}, errors.New("keys: no settings directory given")
	}
	configured, err := readKeySource(opts.Home)
	if err != nil {
		return nil, Source{}, err
	}
	if configured != "" {
		src := Source{Kind: SourceProtectedKeyFile, Path: configured}
		kit, err := readKitFile(configured)
		if err != nil {
			return nil, src, fmt.Errorf("this machine's protected key file (set in %s): %w", filepath.Join(opts.Home, KeySourceFile), err)
		}
		mk, err := openKit(ctx, kit, src, opts.Passphrase)
		return mk, src, err
	}
	src := Source{Kind: SourceKeychain}
	mk, err := keychainGet(ctx)
	if errors.Is(err, ErrNoMasterKey) && opts.CreateIfMissing {
		mk, src.Created, err = createInKeychain(ctx, opts.Home)
	}
	if errors.Is(err, ErrNoMasterKey) {
		return nil, src, fmt.Errorf("%w: open the app or run `pgsafe key init` to create one, or restore one with `pgsafe key import KIT`", ErrNoMasterKey)
	}
	if err != nil {
		return nil, src, err
	}
	return mk, src, nil
}

// Identify returns the ID of the key Open would return, without asking for a
// passphrase (a kit's key ID is readable without it) and without creating a key.
func Identify(ctx context.Context, opts Options) (KeyID, Source, error) {
	path := keyFilePath(opts)
	if path == "" && opts.Home != "" {
		configured, err := readKeySource(opts.Home)
		if err != nil {
			return KeyID{}, Source{}, err
		}
		if configured != "" {
			src := Source{Kind: SourceProtectedKeyFile, Path: configured}
			kit, err := readKitFile(configured)
			if err != nil {
				return KeyID{}, src, err
			}
			return kit.KeyID, src, nil
		}
	}
	if path != "" {
		data, err := readKeyMaterial(path)
		if err != nil {
			return KeyID{}, Source{}, err
		}
		defer clear(data)
		if !bytes.HasPrefix(data, []byte("PGSAFE-KEY-")) {
			kit, err := parseKitFile(path, data)
			if err != nil {
				return KeyID{}, Source{}, err
			}
			return kit.KeyID, Source{Kind: SourceRecoveryKit, Path: path}, nil
		}
	}
	opts.CreateIfMissing = false
	mk, src, err := Open(ctx, opts)
	if err != nil {
		return KeyID{}, src, err
	}
	defer mk.Wipe()
	return mk.ID(), src, nil
}

func keyFilePath(opts Options) string {
	if opts.KeyFile != "" {
		return opts.KeyFile
	}
	return os.Getenv(EnvKeyFile)
}

// OpenFile loads an unprotected key file (which must be private to its owner) or
// a recovery kit (asking pass for its passphrase), telling them apart by content.
func OpenFile(ctx context.Context, path string, pass PassphraseFunc) (*MasterKey, Source, error) {
	data, err := readKeyMaterial(path)
	if err != nil {
		return nil, Source{}, err
	}
	defer clear(data)
	if bytes.HasPrefix(data, []byte("PGSAFE-KEY-")) {
		src := Source{Kind: SourceKeyFile, Path: path}
		mk, err := loadUnprotected(path, data)
		return mk, src, err
	}
	src := Source{Kind: SourceRecoveryKit, Path: path}
	kit, err := parseKitFile(path, data)
	if err != nil {
		return nil, src, err
	}
	mk, err := openKit(ctx, kit, src, pass)
	return mk, src, err
}

// OpenKitFile loads a recovery kit (file or typed text), refusing anything else.
func OpenKitFile(ctx context.Context, path string, pass PassphraseFunc) (*MasterKey, *Kit, error) {
	kit, err := readKitFile(path)
	if err != nil {
		return nil, nil, err
	}
	mk, err := openKit(ctx, kit, Source{Kind: SourceRecoveryKit, Path: path}, pass)
	if err != nil {
		return nil, nil, err
	}
	return mk, kit, nil
}

// ReadKitFile reads a recovery kit without opening it: its key ID and
// parameters are readable without the passphrase.
func ReadKitFile(path string) (*Kit, error) { return readKitFile(path) }

func readKitFile(path string) (*Kit, error) {
	data, err := readKeyMaterial(path)
	if err != nil {
		return nil, err
	}
	return parseKitFile(path, data)
}

func parseKitFile(path string, data []byte) (*Kit, error) {
	kit, err := ParseKit(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kit, nil
}

func openKit(ctx context.Context, kit *Kit, src Source, ask PassphraseFunc) (*MasterKey, error) {
	if ask == nil {
		return nil, fmt.Errorf("%s holds key %s protected by a passphrase, and no passphrase can be asked here", src.Path, kit.KeyID)
	}
	pass, err := ask(ctx, PassphraseRequest{KeyID: kit.KeyID, Source: src})
	if err != nil {
		return nil, fmt.Errorf("passphrase for %s: %w", src.Path, err)
	}
	defer pass.Wipe()
	mk, err := kit.Open(pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Path, err)
	}
	return mk, nil
}

// createInKeychain makes this machine's master key on first run. The lock and
// the second look make concurrent first runs agree on one key; the read-back
// proves the keychain really kept it before anything is encrypted with it.
func createInKeychain(ctx context.Context, home string) (_ *MasterKey, created bool, _ error) {
	unlock, err := lockHome(home)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if mk, err := keychainGet(ctx); !errors.Is(err, ErrNoMasterKey) {
		return mk, false, err // created meanwhile by another process, or an error
	}
	mk, err := NewMasterKey()
	if err != nil {
		return nil, false, err
	}
	if err := storeVerified(ctx, mk); err != nil {
		mk.Wipe()
		return nil, false, err
	}
	if err := audit(ctx, EventKeyCreated, map[string]string{"key_id": mk.ID().String(), "source": string(SourceKeychain)}); err != nil {
		mk.Wipe()
		return nil, false, fmt.Errorf("audit key creation: %w", err)
	}
	return mk, true, nil
}

// storeVerified writes mk to the keychain and reads it back.
func storeVerified(ctx context.Context, mk *MasterKey) error {
	if err := keychainSet(ctx, mk); err != nil {
		return err
	}
	back, err := keychainGet(ctx)
	if err != nil {
		return fmt.Errorf("read the master key back from the keychain: %w", err)
	}
	defer back.Wipe()
	if !back.Equal(mk) {
		return fmt.Errorf("the keychain returned key %s after storing key %s", back.ID(), mk.ID())
	}
	return nil
}
