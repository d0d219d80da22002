package keys

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// ExportKit writes a recovery kit of mk, wrapped with pass, to path (mode 0600,
// never replacing a file) and returns it; its Text is what the user prints. The
// export is audited first: if Audit fails, nothing is written.
func ExportKit(ctx context.Context, mk *MasterKey, pass *Passphrase, path string) (*Kit, error) {
	kit, err := SealKit(mk, pass)
	if err != nil {
		return nil, err
	}
	if err := audit(ctx, EventKeyExported, map[string]string{"key_id": kit.KeyID.String(), "path": path}); err != nil {
		return nil, fmt.Errorf("audit key export: %w", err)
	}
	if err := writeNewFile(path, kit.Text()); err != nil {
		return nil, fmt.Errorf("write recovery kit: %w", err)
	}
	return kit, nil
}

// ImportOptions say where an imported key goes.
type ImportOptions struct {
	Home string // settings directory (required)
	// Replace allows replacing a different master key already on this machine.
	Replace bool
	// ProtectedKeyFile, if set, makes the imported kit this machine's protected key
	// file (for machines without a keychain) instead of storing the key in the keychain.
	ProtectedKeyFile string
	// From names the kit's origin for the audit log (a path, or "-" for stdin).
	From string
}

// ImportResult says what Import did.
type ImportResult struct {
	KeyID     KeyID
	Previous  *KeyID // the key that was replaced, if any
	Source    Source
	Unchanged bool // the same key was already there
}

// KeyConflictError: this machine already has a different master key.
type KeyConflictError struct {
	Have, Import KeyID
	Where        Source
}

func (e *KeyConflictError) Error() string {
	return fmt.Sprintf("this machine already has master key %s (%s), and the kit holds key %s: backups made with %s need %s, so it is kept; "+
		"export its recovery kit first (`pgsafe key export`), then import again with --replace to switch to %s",
		e.Have, e.Where, e.Import, e.Have, e.Have, e.Import)
}

// Import puts the key of a kit (already opened: mk, which Import does not
// keep) on this machine: into the keychain, or as its protected key file. A
// different key already there is refused unless opts.Replace.
func Import(ctx context.Context, kit *Kit, mk *MasterKey, opts ImportOptions) (*ImportResult, error) {
	if opts.Home == "" {
		return nil, errors.New("keys: no settings directory given")
	}
	if mk.ID() != kit.KeyID {
		return nil, errors.New("keys: the key does not belong to the kit")
	}
	unlock, err := lockHome(opts.Home)
	if err != nil {
		return nil, err
	}
	defer unlock()
	configured, err := readKeySource(opts.Home)
	if err != nil {
		return nil, err
	}
	if opts.ProtectedKeyFile != "" {
		return importProtected(ctx, kit, configured, opts)
	}
	if configured != "" {
		return nil, fmt.Errorf("this machine keeps its master key in the protected key file %s (see %s), not in the keychain: "+
			"import with --key-file-protected FILE to replace that file, or remove %s to use the keychain",
			configured, filepath.Join(opts.Home, KeySourceFile), KeySourceFile)
	}
	res := &ImportResult{KeyID: kit.KeyID, Source: Source{Kind: SourceKeychain}}
	have, err := keychainGet(ctx)
	switch {
	case errors.Is(err, ErrNoMasterKey):
	case err != nil:
		return nil, err
	case have.Equal(mk):
		have.Wipe()
		res.Unchanged = true
		return res, nil
	default:
		prev := have.ID()
		have.Wipe()
		if !opts.Replace {
			return nil, &KeyConflictError{Have: prev, Import: kit.KeyID, Where: res.Source}
		}
		res.Previous = &prev
	}
	if err := auditImport(ctx, res, opts.From); err != nil {
		return nil, err
	}
	if err := storeVerified(ctx, mk); err != nil {
		return nil, err
	}
	return res, nil
}

func importProtected(ctx context.Context, kit *Kit, configured string, opts ImportOptions) (*ImportResult, error) {
	path, err := filepath.Abs(opts.ProtectedKeyFile)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{KeyID: kit.KeyID, Source: Source{Kind: SourceProtectedKeyFile, Path: path}}
	if configured != "" {
		if old, err := readKitFile(configured); err == nil && old.KeyID != kit.KeyID {
			if !opts.Replace {
				return nil, &KeyConflictError{Have: old.KeyID, Import: kit.KeyID, Where: Source{Kind: SourceProtectedKeyFile, Path: configured}}
			}
			prev := old.KeyID
			res.Previous = &prev
		}
	} else if have, err := keychainGet(ctx); err == nil {
		// Switching from the keychain: the keychain's key stays where it is, but it
		// is no longer this machine's key, so a different one needs --replace.
		prev := have.ID()
		have.Wipe()
		if prev != kit.KeyID && !opts.Replace {
			return nil, &KeyConflictError{Have: prev, Import: kit.KeyID, Where: Source{Kind: SourceKeychain}}
		}
		if prev != kit.KeyID {
			res.Previous = &prev
		}
	}
	if err := auditImport(ctx, res, opts.From); err != nil {
		return nil, err
	}
	if err := useProtectedKeyFile(opts.Home, path, kit); err != nil {
		return nil, err
	}
	return res, nil
}

func auditImport(ctx context.Context, res *ImportResult, from string) error {
	fields := map[string]string{"key_id": res.KeyID.String(), "source": res.Source.String(), "path": from}
	event := EventKeyImported
	if res.Previous != nil {
		event = EventKeyReplaced
		fields["old_key_id"] = res.Previous.String()
	}
	if err := audit(ctx, event, fields); err != nil {
		return fmt.Errorf("audit key import: %w", err)
	}
	return nil
}

// InitProtectedKeyFile makes path, a new passphrase-protected key file holding mk
// (or a new master key if mk is nil), this machine's key source, for machines
// without a usable keychain. It returns the key's ID.
func InitProtectedKeyFile(ctx context.Context, home, path string, mk *MasterKey, pass *Passphrase) (KeyID, error) {
	if home == "" {
		return KeyID{}, errors.New("keys: no settings directory given")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return KeyID{}, err
	}
	if mk == nil {
		if mk, err = NewMasterKey(); err != nil {
			return KeyID{}, err
		}
		defer mk.Wipe()
	}
	kit, err := SealKit(mk, pass)
	if err != nil {
		return KeyID{}, err
	}
	unlock, err := lockHome(home)
	if err != nil {
		return KeyID{}, err
	}
	defer unlock()
	if configured, err := readKeySource(home); err != nil {
		return KeyID{}, err
	} else if configured != "" {
		return KeyID{}, fmt.Errorf("this machine already uses the protected key file %s (see %s)", configured, filepath.Join(home, KeySourceFile))
	}
	if err := audit(ctx, EventKeySourceChanged, map[string]string{
		"key_id": kit.KeyID.String(), "source": string(SourceProtectedKeyFile), "path": path,
	}); err != nil {
		return KeyID{}, fmt.Errorf("audit key source change: %w", err)
	}
	if err := useProtectedKeyFile(home, path, kit); err != nil {
		return KeyID{}, err
	}
	return kit.KeyID, nil
}

// useProtectedKeyFile writes kit to path (never replacing a file) and records
// it in keysource.json.
func useProtectedKeyFile(home, path string, kit *Kit) error {
	if err := writeNewFile(path, kit.Text()); err != nil {
		return fmt.Errorf("write protected key file: %w", err)
	}
	if err := writeKeySource(home, path); err != nil {
		return fmt.Errorf("record the protected key file: %w", err)
	}
	return nil
}
