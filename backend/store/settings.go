package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
)

// App settings are key/value pairs. Keys are names the program defines
// ("schedule.max_parallel", "ui.theme"), kept in plaintext as the primary key;
// values are what the user chose, sealed.

var settingKey = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

type settingValue struct {
	Value string `json:"v"`
}

func validSettingKey(key string) error {
	if !settingKey.MatchString(key) {
		return invalid("key", "%q is not a setting name (lowercase letters, digits, '.', '_', '-')", key)
	}
	return nil
}

// SetSetting stores value under key and reports whether it changed.
func (s *Store) SetSetting(ctx context.Context, key, value string) (changed bool, err error) {
	return s.UpdateSetting(ctx, key, func(string, bool) (string, error) { return value, nil })
}

// UpdateSetting stores what fn makes of key's value (old, and whether it
// was set) in one transaction, so that two processes updating a list kept
// in a setting do not lose each other's change; it reports whether the
// value changed. An error from fn writes nothing.
func (s *Store) UpdateSetting(ctx context.Context, key string, fn func(old string, found bool) (string, error)) (changed bool, err error) {
	if err := validSettingKey(key); err != nil {
		return false, err
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		changed, err = s.updateSetting(ctx, tx, SettingChange{key, fn})
		return err
	})
	return changed, err
}

// SettingChange is an UpdateSetting made in the same transaction as another
// write (FinishBackup's).
type SettingChange struct {
	Key string
	Fn  func(old string, found bool) (string, error)
}

func (s *Store) updateSetting(ctx context.Context, tx *sql.Tx, c SettingChange) (bool, error) {
	old, err := s.setting(ctx, tx, c.Key)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	value, err := c.Fn(old, found)
	if err != nil {
		return false, err
	}
	if found && old == value {
		return false, nil
	}
	blob, err := s.sealRow("settings", c.Key, settingValue{value})
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings(key, updated_at, sealed) VALUES (?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET updated_at = excluded.updated_at, sealed = excluded.sealed`, c.Key, now(), blob); err != nil {
		return false, s.wrap("set "+c.Key, err)
	}
	return true, s.stampRows(ctx, tx, "settings", "key = ?", c.Key)
}

// Setting returns key's value, or an ErrNotFound error.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	if err := validSettingKey(key); err != nil {
		return "", err
	}
	return s.setting(ctx, s.db, key)
}

func (s *Store) setting(ctx context.Context, q querier, key string) (string, error) {
	var (
		blob []byte
		b    binding
	)
	err := q.QueryRowContext(ctx, "SELECT sealed"+bindingCols("settings")+" FROM settings WHERE key = ?", key).Scan(append([]any{&blob}, b.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFoundf("setting %s is not set", key)
	}
	if err != nil {
		return "", s.wrap("read setting "+key, err)
	}
	var v settingValue
	if err := s.openRow("settings", key, blob, &v, false); err != nil {
		return "", err
	}
	if err := s.checkBinding("settings", &b); err != nil {
		return "", err
	}
	return v.Value, nil
}

// Settings returns every stored setting.
func (s *Store) Settings(ctx context.Context) (map[string]string, error) {
	rs, err := s.db.QueryContext(ctx, "SELECT key, sealed"+bindingCols("settings")+" FROM settings ORDER BY key")
	if err != nil {
		return nil, s.wrap("read settings", err)
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		var (
			key  string
			blob []byte
			v    settingValue
			b    binding
		)
		if err := rs.Scan(append([]any{&key, &blob}, b.dest()...)...); err != nil {
			return nil, s.wrap("read settings", err)
		}
		if err := s.openRow("settings", key, blob, &v, false); err != nil {
			return nil, err
		}
		if err := s.checkBinding("settings", &b); err != nil {
			return nil, err
		}
		out[key] = v.Value
	}
	return out, rs.Err()
}

// DeleteSetting removes key (back to its default); ErrNotFound if it was not set.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	if err := validSettingKey(key); err != nil {
		return err
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		n, err := s.deleteRows(ctx, tx, "settings", "key = ?", key)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundf("setting %s is not set", key)
		}
		return nil
	})
}
