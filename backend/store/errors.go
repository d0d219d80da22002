package store

import (
	"errors"
	"fmt"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// ErrNotFound: no row with the given id or name.
var ErrNotFound = errors.New("not found")

// WrongKeyError: the settings database was created under another master key.
type WrongKeyError struct {
	Path string
	DB   keys.KeyID // the key the database belongs to
	Have keys.KeyID // the key this machine offered
}

func (e *WrongKeyError) Error() string {
	return fmt.Sprintf("settings database %s belongs to master key %s, this machine has key %s: import that key's recovery kit (`pgsafe key import`), or move the settings database away to start with empty settings",
		e.Path, e.DB, e.Have)
}

// NewerSchemaError: the settings database was written by a newer PgSafe.
type NewerSchemaError struct {
	Path    string
	Version int // the database's schema version
	Known   int // the newest this build knows
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("settings database %s was written by a newer PgSafe (schema version %d, this version knows up to %d): update PgSafe; this version will not change the file",
		e.Path, e.Version, e.Known)
}

// ConflictError: a name is already taken, or a row is still in use.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// ValidationError: an input is missing or malformed. Field names the input.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrNotFound)...)
}
