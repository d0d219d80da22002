package audit

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// BenchmarkCheck50k: the verification the engine runs at every open, over a
// log of 50,000 entries (go test -run '^$' -bench Check ./backend/audit/).
func BenchmarkCheck50k(b *testing.B) {
	f := newFixture(b, 1)
	ctx := context.Background()
	const n = 50_000
	var cp Checkpoint
	err := f.st.WriteTx(ctx, func(tx *sql.Tx) error {
		h, err := readHead(ctx, tx)
		if err != nil {
			return err
		}
		ents := make([]Entry, 0, n)
		for i := range n - 2 {
			ents = append(ents, Entry{Action: "backup.finished", Target: "shop", Fields: map[string]string{"backup_id": fmt.Sprint(i), "stored_size": "123456"}})
		}
		cp, err = f.log.insert(ctx, tx, h, ents)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.log.cp.(*FileCheckpoint).Save(cp); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := f.log.Check(ctx)
		if err != nil || !rep.Intact || rep.Entries != n {
			b.Fatalf("Check = %+v, %v", rep, err)
		}
	}
}
