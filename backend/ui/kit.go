package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// The recovery kit in the window (docs/KEYS.md, "In the window"): the
// welcome on a first start, Settings' Export and Import. Passphrases come in
// from the window and are wiped after use; they never go back to it, except
// a generated one, shown once. Nothing here logs a passphrase.

// eventKitPostponed records that the user chose "Later" in the welcome
// (fields: key_id): the welcome does not come back, the status keeps the
// no_recovery_kit reason until a kit is saved.
const eventKitPostponed = "key.kit_postponed"

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
	return kitInfo(context.Background(), e)
}

func kitInfo(ctx context.Context, e *engine.Engine) (RecoveryKitInfo, error) {
	id := e.KeyID().String()
	src := e.KeySource()
	info := RecoveryKitInfo{KeyID: id, Needed: src.Kind == keys.SourceKeychain, KeyCreated: src.Created, DefaultPath: defaultKitPath(id)}
	recs, err := e.Audit().List(ctx, audit.Filter{ActionPrefix: "key."}) // newest first
	if err != nil {
		return RecoveryKitInfo{}, fmt.Errorf("read the key's history: %w", err)
	}
	for _, r := range recs {
		if r.Fields["key_id"] != id || r.Outcome != audit.OK {
			continue
		}
		switch r.Action {
		case keys.EventKeyExported, keys.EventKeyImported:
			if !info.Saved {
				info.Saved, info.SavedAt, info.SavedPath = true, r.At, r.Fields["path"]
				info.SavedHow = strings.TrimPrefix(r.Action, "key.")
			}
		case eventKitPostponed:
			info.Postponed = true
		}
	}
	info.Welcome = info.Needed && !info.Saved && !info.Postponed
	return info, nil
}

// defaultKitPath is ~/Documents/PgSafe-recovery-kit-<key id>.txt (the home
// folder when there is no Documents folder), with -2, -3… when taken.
func defaultKitPath(id string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	dir := filepath.Join(home, "Documents")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = home
	}
	base := "PgSafe-recovery-kit-" + id
	p := filepath.Join(dir, base+".txt")
	for n := 2; n < 100; n++ {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			break
		}
		p = filepath.Join(dir, fmt.Sprintf("%s-%d.txt", base, n))
	}
	return p
}

// PostponeRecoveryKit records "Later": the welcome does not show again;
// the databases keep the no_recovery_kit reason until a kit is saved.
func (s *SystemService) PostponeRecoveryKit() error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	id := e.KeyID().String()
	return e.RecordEvent(context.Background(), engine.Event{Action: eventKitPostponed, Target: id, Fields: map[string]string{"key_id": id}})
}

// GeneratePassphrase returns six random words (keys.GeneratePassphrase):
// the window shows them once and sends them back with ExportRecoveryKit.
func (s *SystemService) GeneratePassphrase() (string, error) {
	p, err := keys.GeneratePassphrase()
	if err != nil {
		return "", err
	}
	defer p.Wipe()
	return string(p.Bytes()), nil
}

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
	p := keys.NewPassphrase([]byte(passphrase))
	defer p.Wipe()
	return checkPassphrase(p)
}

func checkPassphrase(p *keys.Passphrase) PassphraseCheck {
	var c PassphraseCheck
	if p.Len() > 0 {
		st := p.Strength()
		digits := 0.0
		for g := st.Guesses; g >= 10; g /= 10 {
			digits++
		}
		c.Strength = min(100, int(digits*50/12))
	}
	if err := p.CheckNew(); err != nil {
		c.Reason = plainWeak(err)
		return c
	}
	c.OK = true
	return c
}

// plainWeak is CheckNew's refusal without the package's error prefix.
func plainWeak(err error) string {
	msg := strings.TrimPrefix(err.Error(), keys.ErrWeakPassphrase.Error()+": ")
	return strings.ToUpper(msg[:1]) + msg[1:]
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
	p := keys.NewPassphrase([]byte(passphrase))
	defer p.Wipe()
	e, err := s.core.engine()
	if err != nil {
		return ExportedKit{}, err
	}
	path, err = kitPath(path)
	if err != nil {
		return ExportedKit{}, err
	}
	if err := p.CheckNew(); err != nil {
		return ExportedKit{}, errors.New(plainWeak(err))
	}
	kit, err := e.ExportKit(context.Background(), p, path)
	if err != nil {
		return ExportedKit{}, fmt.Errorf("save the recovery kit: %w", err)
	}
	return ExportedKit{Path: path, KeyID: kit.KeyID.String(), Text: string(kit.Text())}, nil
}

// kitPath makes a typed path absolute (~ is the home folder) and checks
// that its folder exists.
func kitPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", errors.New("choose where to save the recovery kit")
	}
	if rest, ok := strings.CutPrefix(p, "~"); ok && (rest == "" || rest[0] == '/' || rest[0] == filepath.Separator) {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, rest)
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("the folder %s does not exist: choose another place", filepath.Dir(abs))
	}
	return abs, nil
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
	return inspectKit(context.Background(), e, path)
}

func inspectKit(ctx context.Context, e *engine.Engine, path string) (KitCheck, error) {
	path, err := kitPath(path)
	if err != nil {
		return KitCheck{}, err
	}
	kit, err := keys.ReadKitFile(path)
	if err != nil {
		return KitCheck{}, fmt.Errorf("read the recovery kit: %w", err)
	}
	c := KitCheck{Path: path, KitKeyID: kit.KeyID.String(), ThisKeyID: e.KeyID().String(), Same: kit.KeyID == e.KeyID()}
	if src := e.KeySource(); src.Kind != keys.SourceKeychain {
		c.Blocked = fmt.Sprintf("This PgSafe uses the master key from %s, not from the keychain: a kit is imported into the keychain.", src)
		return c, nil
	}
	if c.Same {
		c.CanImport = true
		return c, nil
	}
	dbs, err := e.Databases(ctx)
	if err != nil {
		return KitCheck{}, err
	}
	bks, err := e.Store().Backups(ctx, store.BackupFilter{IncludeDamaged: true})
	if err != nil {
		return KitCheck{}, err
	}
	c.Databases, c.Backups = len(dbs), len(bks)
	if c.Databases > 0 || c.Backups > 0 {
		c.Blocked = fmt.Sprintf("This computer's settings hold %s and %s made with key %s. Replacing the key here would make them unreadable, so PgSafe keeps it. "+
			"To use key %s, save a recovery kit of key %s first, then import this kit with a fresh settings folder.",
			plural(c.Databases, "database"), plural(c.Backups, "backup"), c.ThisKeyID, c.KitKeyID, c.ThisKeyID)
		return c, nil
	}
	c.CanImport = true
	return c, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
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
	p := keys.NewPassphrase([]byte(passphrase))
	defer p.Wipe()
	ctx := context.Background()
	e, err := s.core.engine()
	if err != nil {
		return KitImported{}, err
	}
	check, err := inspectKit(ctx, e, path)
	if err != nil {
		return KitImported{}, err
	}
	if check.Blocked != "" {
		return KitImported{}, errors.New(check.Blocked)
	}
	if !check.Same && !replace {
		return KitImported{}, fmt.Errorf("this computer already has master key %s and the kit holds key %s: PgSafe keeps %s unless you choose to replace it",
			check.ThisKeyID, check.KitKeyID, check.ThisKeyID)
	}
	mk, kit, err := keys.OpenKitFile(ctx, check.Path, func(context.Context, keys.PassphraseRequest) (*keys.Passphrase, error) {
		return keys.NewPassphrase(append([]byte(nil), p.Bytes()...)), nil
	})
	if err != nil {
		if errors.Is(err, keys.ErrWrongPassphrase) {
			return KitImported{}, fmt.Errorf("the passphrase does not open the recovery kit of key %s: check it and try again", check.KitKeyID)
		}
		return KitImported{}, fmt.Errorf("open the recovery kit: %w", err)
	}
	defer mk.Wipe()
	if check.Same {
		// Already this machine's key: record that the user holds its kit.
		err := e.RecordEvent(ctx, engine.Event{Action: keys.EventKeyImported, Target: check.KitKeyID, Fields: map[string]string{
			"key_id": check.KitKeyID, "source": string(keys.SourceKeychain), "path": check.Path, "unchanged": "true"}})
		return KitImported{KeyID: check.KitKeyID, Unchanged: true}, err
	}
	return s.core.replaceKey(ctx, kit, mk, check)
}

// replaceKey makes mk (kit's key) this machine's key in place of the one
// the open engine uses, whose settings hold nothing made with it (checked
// by inspectKit): it closes the engine, stores the key, moves the settings
// aside and opens again.
func (c *Core) replaceKey(ctx context.Context, kit *keys.Kit, mk *keys.MasterKey, check KitCheck) (KitImported, error) {
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

	res := KitImported{KeyID: check.KitKeyID, Replaced: check.ThisKeyID}
	_, err := keys.Import(ctx, kit, mk, keys.ImportOptions{Home: home, Replace: true, From: check.Path})
	if err == nil {
		res.KeptAs, err = setSettingsAside(home, check.ThisKeyID)
	}
	oerr := c.open(appCtx, false)
	if err != nil {
		return KitImported{}, fmt.Errorf("import the recovery kit: %w", err)
	}
	if oerr != nil {
		return res, fmt.Errorf("the key of the kit is in place, but PgSafe could not open again: %w", oerr)
	}
	e, err := c.engine()
	if err != nil {
		return res, err
	}
	// The engine closed before the import: record it in the new audit log.
	err = e.RecordEvent(ctx, engine.Event{Action: keys.EventKeyImported, Target: res.KeyID, Fields: map[string]string{
		"key_id": res.KeyID, "old_key_id": res.Replaced, "source": string(keys.SourceKeychain), "path": check.Path, "kept_as": res.KeptAs}})
	return res, err
}

// setSettingsAside moves the settings database, the files beside it and
// the audit checkpoint, which belong to the replaced key, into a new folder
// of the settings directory.
func setSettingsAside(home, oldKey string) (string, error) {
	dir := filepath.Join(home, "replaced-key-"+oldKey+"-"+time.Now().UTC().Format("20060102T150405Z"))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("set the settings of key %s aside: %w", oldKey, err)
	}
	files, _ := filepath.Glob(filepath.Join(home, store.FileName+"*"))
	cps, _ := filepath.Glob(filepath.Join(home, audit.CheckpointFile+"*"))
	for _, p := range append(files, cps...) {
		if err := os.Rename(p, filepath.Join(dir, filepath.Base(p))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return dir, fmt.Errorf("set the settings of key %s aside: %w", oldKey, err)
		}
	}
	return dir, nil
}
