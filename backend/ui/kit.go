package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// The recovery kit in the window (docs/KEYS.md, "In the window"): the
// welcome on a first start, Settings' Export and Import, through the
// engine (engine/recoverykit.go). Passphrases come in from the window and
// go to the engine, which wipes them after use; they never go back to the
// window, except a generated one, shown once. Nothing here logs a
// passphrase.

// RecoveryKitInfo is what the window shows about the recovery kit of the
// key in use.
type RecoveryKitInfo struct {
	KeyID string `json:"keyId"`
	// Needed: the key lives in the keychain, so only a kit brings it back
	// (a key from a file the user keeps needs none).
	Needed bool `json:"needed"`
	// KeyCreated: PgSafe created the key on this start.
	KeyCreated bool `json:"keyCreated"`
	// Saved: a kit of this key was exported or imported with these settings
	// (newest: SavedAt, SavedPath, SavedHow "exported" or "imported").
	Saved     bool      `json:"saved"`
	SavedAt   time.Time `json:"savedAt"`
	SavedPath string    `json:"savedPath,omitempty"`
	SavedHow  string    `json:"savedHow,omitempty"`
	// Postponed: the user chose "Later" in the welcome.
	Postponed bool `json:"postponed"`
	// Welcome: show the first-start welcome (a kit is needed, none was
	// saved and the user has not postponed it).
	Welcome bool `json:"welcome"`
	// DefaultPath is where a new kit is proposed to go.
	DefaultPath string `json:"defaultPath"`
}

// RecoveryKit says whether a kit of the key in use was saved, and when.
func (s *SystemService) RecoveryKit() (RecoveryKitInfo, error) {
	e, err := s.core.engine()
	if err != nil {
		return RecoveryKitInfo{}, err
	}
	info, err := e.RecoveryKit(context.Background())
	return RecoveryKitInfo(info), err
}

// PostponeRecoveryKit records "Later": the welcome does not show again;
// the databases keep the no_recovery_kit reason until a kit is saved.
func (s *SystemService) PostponeRecoveryKit() error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.PostponeRecoveryKit(context.Background())
}

// GeneratePassphrase returns six random words: the window shows them once
// and sends them back with ExportRecoveryKit.
func (s *SystemService) GeneratePassphrase() (string, error) { return engine.GeneratePassphrase() }

// PassphraseCheck is the strength meter of a passphrase the user types.
type PassphraseCheck struct {
	// OK: strong enough for a new kit (keys.Passphrase.CheckNew).
	OK bool `json:"ok"`
	// Reason says why not, never quoting the passphrase.
	Reason string `json:"reason,omitempty"`
	// Strength is 0–100: log10 of zxcvbn's guesses, 100 at twice the
	// exponent needed (the meter's bar; OK decides).
	Strength int `json:"strength"`
}

// CheckPassphrase rates a new kit's passphrase as ExportRecoveryKit will.
func (s *SystemService) CheckPassphrase(passphrase string) PassphraseCheck {
	return PassphraseCheck(engine.CheckPassphrase(passphrase))
}

// ExportedKit is a recovery kit just written.
type ExportedKit struct {
	Path  string `json:"path"`
	KeyID string `json:"keyId"`
	// Text is the file's content, to print: the key sealed with the
	// passphrase, which it does not hold.
	Text string `json:"text"`
}

// ExportRecoveryKit writes a kit of the key in use to path (a new file),
// sealed with passphrase; audited (key.exported), which ends the
// no_recovery_kit reason.
func (s *SystemService) ExportRecoveryKit(passphrase, path string) (ExportedKit, error) {
	e, err := s.core.engine()
	if err != nil {
		return ExportedKit{}, err
	}
	kit, err := e.ExportRecoveryKit(context.Background(), passphrase, path)
	return ExportedKit(kit), err
}

// KitCheck describes a kit file before it is imported.
type KitCheck struct {
	Path      string `json:"path"`
	KitKeyID  string `json:"kitKeyId"`
	ThisKeyID string `json:"thisKeyId"`
	// Same: the kit holds the key this machine already uses.
	Same bool `json:"same"`
	// For a different key: what these settings hold, made with this
	// machine's key. Replacing is offered only when they hold no database
	// and no backup (a fresh start); Blocked says why not otherwise.
	Databases int    `json:"databases"`
	Backups   int    `json:"backups"`
	CanImport bool   `json:"canImport"`
	Blocked   string `json:"blocked,omitempty"`
}

// InspectRecoveryKit reads the kit at path (its key ID needs no
// passphrase) and says what importing it would do.
func (s *SystemService) InspectRecoveryKit(path string) (KitCheck, error) {
	e, err := s.core.engine()
	if err != nil {
		return KitCheck{}, err
	}
	c, err := e.InspectRecoveryKit(context.Background(), path)
	return KitCheck(c), err
}

// KitImported says what ImportRecoveryKit did.
type KitImported struct {
	KeyID string `json:"keyId"`
	// Unchanged: the kit holds the key already in use (now recorded as saved).
	Unchanged bool `json:"unchanged"`
	// Replaced is the key it replaced; KeptAs the folder the settings made
	// with it were moved to.
	Replaced string `json:"replaced,omitempty"`
	KeptAs   string `json:"keptAs,omitempty"`
}

// ImportRecoveryKit opens the kit at path with passphrase and makes its key
// this machine's. A different key already here is replaced only with
// replace, and only when the settings hold no database or backup (see
// InspectRecoveryKit): the settings made with it are moved aside and
// PgSafe opens again with empty ones under the imported key.
func (s *SystemService) ImportRecoveryKit(path, passphrase string, replace bool) (KitImported, error) {
	ctx := context.Background()
	e, err := s.core.engine()
	if err != nil {
		return KitImported{}, err
	}
	res, rep, err := e.ImportRecoveryKit(ctx, path, passphrase, replace)
	if err != nil || rep == nil {
		return KitImported(res), err
	}
	defer rep.Wipe()
	return s.core.replaceKey(ctx, rep)
}

// replaceKey makes the kit's key this machine's key in place of the one
// the open engine uses, whose settings hold nothing made with it (checked
// by the engine): it stops the background work, closes the engine, has
// the replacement applied and opens again.
func (c *Core) replaceKey(ctx context.Context, rep *engine.KeyReplacement) (KitImported, error) {
	c.mu.Lock()
	eng, cancel, appCtx := c.eng, c.bgCancel, c.ctx
	c.mu.Unlock()
	if eng == nil {
		return KitImported{}, errors.New("PgSafe's key and settings are not open")
	}
	if appCtx == nil {
		appCtx = context.Background()
	}
	if cancel != nil {
		cancel()
		c.bg.Wait()
	}
	c.mu.Lock()
	c.eng, c.err = nil, errStarting
	c.mu.Unlock()
	home := eng.Home()
	eng.Close()

	res, err := rep.Apply(ctx, home)
	oerr := c.open(appCtx, false)
	if err != nil {
		return KitImported{}, fmt.Errorf("import the recovery kit: %w", err)
	}
	if oerr != nil {
		return KitImported(res), fmt.Errorf("the key of the kit is in place, but PgSafe could not open again: %w", oerr)
	}
	e, err := c.engine()
	if err != nil {
		return KitImported(res), err
	}
	return KitImported(res), rep.Record(ctx, e, res)
}
