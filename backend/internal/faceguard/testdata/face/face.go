// Package face is faceguard's test fixture: a face using the engine and,
// for each kind of use Check tells apart, a lower package.
package face

import (
	"errors"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

type view struct{ Where, Status string }

// Types, fields, conversions and composite literals are plain data.
func typesOnly(b store.Backup, c store.StorageConfig) view {
	var cfg store.StorageConfig = store.StorageConfig{Name: c.Name}
	return view{Where: engine.StorageWhere(cfg), Status: string(b.Status)}
}

func logic(b store.Backup, err error) (bool, bool, store.Secret, bool) {
	return b.Status == store.StatusSucceeded, // const
		errors.Is(err, store.ErrNotFound), // var
		store.NewSecret("x"), // func
		b.Copies != nil && store.NewSecret("y").IsSet() // func, method
}
