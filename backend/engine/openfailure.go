package engine

import (
	"errors"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// OpenFailure is why Open failed, in the terms a face shows and acts on.
type OpenFailure struct {
	// Message says what is wrong and what to do: the keychain's own words
	// for a keychain error, the settings database's for a damaged or
	// modified one, else the whole error.
	Message string
	// SettingsModified: the settings database was changed outside PgSafe
	// (ModifiedDetail says how); Open with AcceptModified takes it as it is.
	SettingsModified bool
	ModifiedDetail   string
	// SettingsDamaged: the settings database was empty or damaged and was
	// moved to KeptAs; opening again starts with empty settings.
	SettingsDamaged bool
	DamagedReason   string
	KeptAs          string
	SettingsPath    string
}

// DescribeOpenFailure says why Open failed (err is what it returned,
// wrapped or not).
func DescribeOpenFailure(err error) OpenFailure {
	var ke *keys.KeychainError
	var de *store.DamagedError
	var me *store.ModifiedError
	switch {
	case errors.As(err, &ke):
		return OpenFailure{Message: ke.Error()}
	case errors.As(err, &de):
		return OpenFailure{Message: de.Error(), SettingsDamaged: true, SettingsPath: de.Path, DamagedReason: de.Reason, KeptAs: de.KeptAs}
	case errors.As(err, &me):
		return OpenFailure{Message: me.Error(), SettingsModified: true, SettingsPath: me.Path, ModifiedDetail: me.Detail}
	case errors.Is(err, store.ErrModified):
		return OpenFailure{Message: err.Error(), SettingsModified: true}
	}
	return OpenFailure{Message: err.Error()}
}
