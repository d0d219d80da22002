package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The store ID is a random identifier of one settings database, drawn when
// its audit log is started and named by the log's genesis entry
// (docs/AUDIT.md): a log whose entries were all deleted is then told from a
// log that was never started.
const metaStoreID = "store_id"

// StoreID reads the store ID in tx; "" when none was set yet.
func StoreID(ctx context.Context, tx *sql.Tx) (string, error) {
	var v string
	err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaStoreID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the store ID: %w", err)
	}
	return v, nil
}

// SetStoreID sets the store ID in tx, a write transaction (Store.WriteTx). It
// fails if one is set already: a store ID is set once.
func SetStoreID(ctx context.Context, tx *sql.Tx, id string) error {
	if id == "" {
		return errors.New("set the store ID: empty ID")
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES (?, ?)", metaStoreID, id); err != nil {
		return fmt.Errorf("set the store ID: %w", err)
	}
	return nil
}
