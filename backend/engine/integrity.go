package engine

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pgsafe/pgsafe/backend/store"
)

// The settings database's integrity as a face checks it (docs/STORE.md,
// "Integrity"): which rows were modified outside PgSafe, and forgetting
// the damaged history records and schedules.

// EventForgotDamaged records that the damaged history records and
// schedules were removed (fields: rows, how many).
const EventForgotDamaged = "settings.forgot_damaged"

// SettingsFile is the settings database's path.
func (e *Engine) SettingsFile() string { return e.store.Path() }

// DamagedRow is a settings row modified outside PgSafe.
type DamagedRow struct {
	Table string
	Row   string
	// Forgettable: ForgetDamagedSettings removes it (a history record or a
	// schedule); configuration rows are left for the user.
	Forgettable bool
}

// SettingsCheck is what a check of the settings database found.
type SettingsCheck struct {
	Damaged []DamagedRow // none: intact
}

// Err is nil when the settings are intact, else says how many rows were
// modified outside PgSafe (it matches store.ErrModified).
func (c SettingsCheck) Err() error {
	if len(c.Damaged) == 0 {
		return nil
	}
	return fmt.Errorf("%d settings rows were modified outside PgSafe: %w", len(c.Damaged), store.ErrModified)
}

// CheckSettings lists every settings row modified outside PgSafe.
func (e *Engine) CheckSettings(ctx context.Context) (SettingsCheck, error) {
	rows, err := e.store.Damaged(ctx)
	if err != nil {
		return SettingsCheck{}, err
	}
	return SettingsCheck{Damaged: damagedRows(rows)}, nil
}

// ForgetDamagedSettings removes the damaged history records (backups,
// copies, verify, drill and restore runs, health checks) and schedules, and
// returns them; the backup files in the storages are not touched. Audited
// (EventForgotDamaged) when it removed any.
func (e *Engine) ForgetDamagedSettings(ctx context.Context) ([]DamagedRow, error) {
	gone, err := e.store.ForgetDamaged(ctx)
	if err != nil {
		return nil, err
	}
	if len(gone) > 0 {
		if err := e.record(ctx, Event{Action: EventForgotDamaged, Fields: map[string]string{"rows": strconv.Itoa(len(gone))}}); err != nil {
			return damagedRows(gone), err
		}
	}
	return damagedRows(gone), nil
}

func damagedRows(rows []store.DamagedRowError) []DamagedRow {
	out := make([]DamagedRow, len(rows))
	for i, r := range rows {
		out[i] = DamagedRow{Table: r.Table, Row: r.Row, Forgettable: store.Forgettable(r.Table)}
	}
	return out
}
