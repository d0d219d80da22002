package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// The recovery kit as a face offers it (docs/KEYS.md, "In the window"): the
// welcome on a first start, export and import. Passphrases come in as the
// user typed them and are wiped after use; only a generated one goes back,
// to be shown once. Nothing here logs a passphrase.

// EventKitPostponed records that the user chose "Later" in the welcome
// (fields: key_id): the welcome does not come back, the status keeps the
// no_recovery_kit reason until a kit is saved.
const EventKitPostponed = "key.kit_postponed"

// KeyInfo is the master key in use: its ID, where it comes from
// ("keychain", "key-file", …) and whether PgSafe created it on this start.
type KeyInfo struct {
	ID      string
	Source  string
	Created bool
}

// Key says which master key the engine uses.
func (e *Engine) Key() KeyInfo {
	return KeyInfo{ID: e.key.ID().String(), Source: string(e.keySource.Kind), Created: e.keySource.Created}
}

// RecoveryKitInfo says whether a kit of the key in use was saved, and when.
type RecoveryKitInfo struct {
	KeyID string
	// Needed: the key lives in the keychain, so only a kit brings it back
	// (a key from a file the user keeps needs none).
	Needed bool
	// KeyCreated: PgSafe created the key on this start.
	KeyCreated bool
	// Saved: a kit of this key was exported or imported with these settings
	// (newest: SavedAt, SavedPath, SavedHow "exported" or "imported").
	Saved     bool
	SavedAt   time.Time
	SavedPath string
	SavedHow  string
	// Postponed: the user chose "Later" in the welcome.
	Postponed bool
	// Welcome: show the first-start welcome (a kit is needed, none was
	// saved and the user has not postponed it).
	Welcome bool
	// DefaultPath is where a new kit is proposed to go.
	DefaultPath string
}

// RecoveryKit reads the key's history: whether a kit of it was saved, and
// whether the welcome is due.
func (e *Engine) RecoveryKit(ctx context.Context) (RecoveryKitInfo, error) {
	id := e.key.ID().String()
	info := RecoveryKitInfo{KeyID: id, Needed: e.keySource.Kind == keys.SourceKeychain, KeyCreated: e.keySource.Created, DefaultPath: DefaultKitPath(id)}
	recs, err := e.auditLog.List(ctx, audit.Filter{ActionPrefix: "key."}) // newest first
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
		case EventKitPostponed:
			info.Postponed = true
		}
	}
	info.Welcome = info.Needed && !info.Saved && !info.Postponed
	return info, nil
}

// DefaultKitPath is ~/Documents/PgSafe-recovery-kit-<key id>.txt (the home
// folder when there is no Documents folder), with -2, -3… when taken.
func DefaultKitPath(id string) string {
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
func (e *Engine) PostponeRecoveryKit(ctx context.Context) error {
	id := e.key.ID().String()
	return e.record(ctx, Event{Action: EventKitPostponed, Target: id, Fields: map[string]string{"key_id": id}})
}

// GeneratePassphrase is six random words (keys.GeneratePassphrase), for a
// face to show once and send back with ExportRecoveryKit.
func GeneratePassphrase() (string, error) {
	p, err := keys.GeneratePassphrase()
	if err != nil {
		return "", err
	}
	defer p.Wipe()
	return string(p.Bytes()), nil
}

// PassphraseCheck is the strength of a new kit's passphrase.
type PassphraseCheck struct {
	// OK: strong enough for a new kit (keys.Passphrase.CheckNew).
	OK bool
	// Reason says why not, never quoting the passphrase.
	Reason string
	// Strength is 0–100: log10 of zxcvbn's guesses, 100 at twice the
	// exponent needed (a meter's bar; OK decides).
	Strength int
}

// CheckPassphrase rates a new kit's passphrase as ExportRecoveryKit will.
func CheckPassphrase(passphrase string) PassphraseCheck {
	p := keys.NewPassphrase([]byte(passphrase))
	defer p.Wipe()
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
	Path  string
	KeyID string
	// Text is the file's content, to print: the key sealed with the
	// passphrase, which it does not hold.
	Text string
}

// ExportRecoveryKit writes a kit of the key in use to path (a new file; ~
// is the home folder), sealed with passphrase, which must be strong enough
// for a new kit; audited (key.exported), which ends the no_recovery_kit
// reason.
func (e *Engine) ExportRecoveryKit(ctx context.Context, passphrase, path string) (ExportedKit, error) {
	p := keys.NewPassphrase([]byte(passphrase))
	defer p.Wipe()
	path, err := kitPath(path)
	if err != nil {
		return ExportedKit{}, err
	}
	if err := p.CheckNew(); err != nil {
		return ExportedKit{}, errors.New(plainWeak(err))
	}
	kit, err := e.ExportKit(ctx, p, path)
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
	Path      string
	KitKeyID  string
	ThisKeyID string
	// Same: the kit holds the key this machine already uses.
	Same bool
	// For a different key: what these settings hold, made with this
	// machine's key. Replacing is offered only when they hold no database
	// and no backup (a fresh start); Blocked says why not otherwise.
	Databases int
	Backups   int
	CanImport bool
	Blocked   string
}

// InspectRecoveryKit reads the kit at path (its key ID needs no
// passphrase) and says what importing it would do.
func (e *Engine) InspectRecoveryKit(ctx context.Context, path string) (KitCheck, error) {
	path, err := kitPath(path)
	if err != nil {
		return KitCheck{}, err
	}
	kit, err := keys.ReadKitFile(path)
	if err != nil {
		return KitCheck{}, fmt.Errorf("read the recovery kit: %w", err)
	}
	c := KitCheck{Path: path, KitKeyID: kit.KeyID.String(), ThisKeyID: e.key.ID().String(), Same: kit.KeyID == e.key.ID()}
	if src := e.keySource; src.Kind != keys.SourceKeychain {
		c.Blocked = fmt.Sprintf("This PgSafe uses the master key from %s, not from the keychain: a kit is imported into the keychain.", src)
		return c, nil
	}
	if c.Same {
		c.CanImport = true
		return c, nil
	}
	dbs, err := e.store.Databases(ctx)
	if err != nil {
		return KitCheck{}, err
	}
	bks, err := e.store.Backups(ctx, store.BackupFilter{IncludeDamaged: true})
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

// KitImported says what importing a kit did.
type KitImported struct {
	KeyID string
	// Unchanged: the kit holds the key already in use (now recorded as saved).
	Unchanged bool
	// Replaced is the key it replaced; KeptAs the folder the settings made
	// with it were moved to.
	Replaced string
	KeptAs   string
}

// KeyReplacement is a kit's key opened to replace the key in use: the
// engine must be closed before Apply, and the engine opened after it
// records it (Record). Wipe it when done.
type KeyReplacement struct {
	kit   *keys.Kit
	mk    *keys.MasterKey
	check KitCheck
}

// ImportRecoveryKit opens the kit at path with passphrase. When it holds
// the key already in use, that is recorded (the user holds its kit) and it
// is done. Otherwise a different key replaces this one only with replace,
// and only when the settings hold no database or backup (see
// InspectRecoveryKit): the KeyReplacement returned does that once the
// caller has closed this engine.
func (e *Engine) ImportRecoveryKit(ctx context.Context, path, passphrase string, replace bool) (KitImported, *KeyReplacement, error) {
	p := keys.NewPassphrase([]byte(passphrase))
	defer p.Wipe()
	check, err := e.InspectRecoveryKit(ctx, path)
	if err != nil {
		return KitImported{}, nil, err
	}
	if check.Blocked != "" {
		return KitImported{}, nil, errors.New(check.Blocked)
	}
	if !check.Same && !replace {
		return KitImported{}, nil, fmt.Errorf("this computer already has master key %s and the kit holds key %s: PgSafe keeps %s unless you choose to replace it",
			check.ThisKeyID, check.KitKeyID, check.ThisKeyID)
	}
	mk, kit, err := keys.OpenKitFile(ctx, check.Path, func(context.Context, keys.PassphraseRequest) (*keys.Passphrase, error) {
		return keys.NewPassphrase(append([]byte(nil), p.Bytes()...)), nil
	})
	if err != nil {
		if errors.Is(err, keys.ErrWrongPassphrase) {
			return KitImported{}, nil, fmt.Errorf("the passphrase does not open the recovery kit of key %s: check it and try again", check.KitKeyID)
		}
		return KitImported{}, nil, fmt.Errorf("open the recovery kit: %w", err)
	}
	if !check.Same {
		return KitImported{KeyID: check.KitKeyID, Replaced: check.ThisKeyID}, &KeyReplacement{kit: kit, mk: mk, check: check}, nil
	}
	mk.Wipe()
	// Already this machine's key: record that the user holds its kit.
	err = e.record(ctx, Event{Action: keys.EventKeyImported, Target: check.KitKeyID, Fields: map[string]string{
		"key_id": check.KitKeyID, "source": string(keys.SourceKeychain), "path": check.Path, "unchanged": "true"}})
	return KitImported{KeyID: check.KitKeyID, Unchanged: true}, nil, err
}

// Apply stores the kit's key in the keychain in place of the old one and
// moves the settings made with the old key aside, in home; the engine of
// home must be closed.
func (r *KeyReplacement) Apply(ctx context.Context, home string) (KitImported, error) {
	res := KitImported{KeyID: r.check.KitKeyID, Replaced: r.check.ThisKeyID}
	if _, err := keys.Import(ctx, r.kit, r.mk, keys.ImportOptions{Home: home, Replace: true, From: r.check.Path}); err != nil {
		return res, err
	}
	var err error
	res.KeptAs, err = setSettingsAside(home, r.check.ThisKeyID)
	return res, err
}

// Record audits the replacement in the audit log of e, the engine opened
// again under the new key (the old engine closed before the import).
func (r *KeyReplacement) Record(ctx context.Context, e *Engine, res KitImported) error {
	return e.record(ctx, Event{Action: keys.EventKeyImported, Target: res.KeyID, Fields: map[string]string{
		"key_id": res.KeyID, "old_key_id": res.Replaced, "source": string(keys.SourceKeychain), "path": r.check.Path, "kept_as": res.KeptAs}})
}

// Wipe clears the opened key from memory.
func (r *KeyReplacement) Wipe() { r.mk.Wipe() }

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
