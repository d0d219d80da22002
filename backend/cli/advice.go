package cli

import (
	"errors"

	"github.com/pgsafe/pgsafe/backend/store"
)

// advice is what to type next after err, for errors whose way out is a
// command; the engine's errors name none (they reach the window too).
func advice(err error) string {
	var de *store.DamagedError
	if errors.As(err, &de) {
		return "to get your backups back: add each storage again (`pgsafe storage add …`), list what it holds " +
			"(`pgsafe backups --storage NAME`) and restore from it (`pgsafe restore --storage NAME ID|latest …`); " +
			"to keep the settings elsewhere, set PGSAFE_HOME to a new folder"
	}
	return ""
}
