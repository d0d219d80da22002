package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

type fixture struct {
	dir string
	mk  *keys.MasterKey
	st  *store.Store
	log *Log
}

func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "home")
	mk, _ := keys.NewMasterKey()
	st, err := store.Open(context.Background(), filepath.Join(dir, store.FileName), mk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cp, err := NewFileCheckpoint(filepath.Join(dir, CheckpointFile), mk)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(st, mk, cp)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := l.Record(context.Background(), Entry{Action: fmt.Sprintf("test.action%d", i), Target: fmt.Sprintf("target-marker-%d", i),
			Fields: map[string]string{"field": "host"}, Message: fmt.Sprintf("message-marker-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{dir: dir, mk: mk, st: st, log: l}
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.st.DB().Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verify(t *testing.T) Report {
	t.Helper()
	rep, err := f.log.verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestIntact(t *testing.T) {
	f := newFixture(t, 5)
	rep, err := f.log.Verify(context.Background())
	// Entry 1 is the genesis entry, the five entries follow it.
	if err != nil || !rep.Intact || rep.Entries != 6 || rep.GoodTo != 6 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	// The verification is itself an entry, and the log stays intact.
	recs, err := f.log.List(context.Background(), Filter{})
	if err != nil || len(recs) != 7 || recs[0].Action != "audit.verified" || recs[0].Message != "intact: 6 entries" ||
		recs[6].Action != ActionGenesis || recs[6].Seq != 1 {
		t.Fatalf("List = %+v, %v", recs, err)
	}
	if recs[5].Target != "target-marker-1" || recs[5].Fields["field"] != "host" || recs[5].Actor == "" {
		t.Fatalf("oldest entry %+v", recs[5])
	}
	if rep := f.verify(t); !rep.Intact || rep.Entries != 7 {
		t.Fatalf("after verification: %+v", rep)
	}
	recs, _ = f.log.List(context.Background(), Filter{ActionPrefix: "test.", Limit: 2, Offset: 1})
	if len(recs) != 2 || recs[0].Seq != 5 || recs[1].Seq != 4 {
		t.Fatalf("filtered list %+v", recs)
	}
}

func TestTamperingIsLocated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		at     int64
		kind   string
	}{
		{"one byte of sealed details", func(t *testing.T, f *fixture) {
			var d []byte
			f.st.DB().QueryRow("SELECT details FROM audit_log WHERE seq = 3").Scan(&d)
			d[20] ^= 0xff
			f.exec(t, "UPDATE audit_log SET details = ? WHERE seq = 3", d)
		}, 3, BreakMAC},
		{"action text", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit_log SET action = 'backup.finished' WHERE seq = 4")
		}, 4, BreakMAC},
		{"outcome", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit_log SET outcome = 'ok', at = at + 1 WHERE seq = 2")
		}, 2, BreakMAC},
		{"middle row deleted", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit_log WHERE seq = 3")
		}, 4, BreakGap},
		{"last rows deleted", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit_log WHERE seq >= 4")
		}, 4, BreakTail},
		{"rows reordered", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit_log SET seq = -2 WHERE seq = 2")
			f.exec(t, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
			f.exec(t, "UPDATE audit_log SET seq = 3 WHERE seq = -2")
		}, 2, BreakMAC},
		{"checkpoint forged", func(t *testing.T, f *fixture) {
			p := filepath.Join(f.dir, CheckpointFile)
			data, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(data, []byte(`"seq":6`), []byte(`"seq":5`), 1), 0o600)
		}, 6, BreakCheckpoint},
		{"checkpoint removed", func(t *testing.T, f *fixture) {
			os.Remove(filepath.Join(f.dir, CheckpointFile))
		}, 6, BreakCheckpoint},
		{"genesis entry deleted", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit_log WHERE seq = 1")
		}, 1, BreakGenesis},
		{"MAC replaced without the key", func(t *testing.T, f *fixture) {
			// Without the key no valid MAC can be made.
			f.exec(t, "UPDATE audit_log SET mac = zeroblob(32) WHERE seq = 1")
		}, 1, BreakMAC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 5)
			tc.tamper(t, f)
			rep := f.verify(t)
			if rep.Intact || rep.BrokenAt != tc.at || rep.Kind != tc.kind {
				t.Fatalf("Verify = %+v; want broken at %d (%s)", rep, tc.at, tc.kind)
			}
			if rep.GoodTo != tc.at-1 && tc.kind != BreakCheckpoint && tc.kind != BreakTail && tc.kind != BreakGap {
				t.Errorf("intact up to %d, want %d", rep.GoodTo, tc.at-1)
			}
		})
	}
}

func TestSealedDetailsMovedBetweenRows(t *testing.T) {
	f := newFixture(t, 3)
	// Copy details and recompute nothing: the MAC catches it first, but the
	// details of row 2 also no longer open at row 3.
	f.exec(t, "UPDATE audit_log SET details = (SELECT details FROM audit_log WHERE seq = 2) WHERE seq = 3")
	if rep := f.verify(t); rep.Intact || rep.BrokenAt != 3 {
		t.Fatalf("%+v", rep)
	}
	recs, _ := f.log.List(context.Background(), Filter{})
	if !strings.Contains(recs[1].Message, "do not open") {
		t.Fatalf("moved details listed as %+v", recs[1])
	}
}

func TestOtherKey(t *testing.T) {
	f := newFixture(t, 3)
	other, _ := keys.NewMasterKey()
	cp, _ := NewFileCheckpoint(filepath.Join(f.dir, CheckpointFile), other)
	l2, _ := New(f.st, other, cp)
	rep, err := l2.verify(context.Background())
	if err != nil || rep.Intact || rep.BrokenAt != 1 {
		t.Fatalf("verify under another key = %+v, %v", rep, err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	f := newFixture(t, 0)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := f.log.Record(context.Background(), Entry{Action: "test.concurrent"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if rep := f.verify(t); !rep.Intact || rep.Entries != 101 {
		t.Fatalf("after concurrent appends: %+v", rep)
	}
}

func TestNothingReadableInTheFile(t *testing.T) {
	f := newFixture(t, 5)
	for _, suffix := range []string{"", "-wal"} {
		data, _ := os.ReadFile(f.st.Path() + suffix)
		for _, m := range []string{"target-marker-", "message-marker-"} {
			if bytes.Contains(data, []byte(m)) {
				t.Fatalf("%q readable in %s%s", m, store.FileName, suffix)
			}
		}
	}
}

func TestExport(t *testing.T) {
	f := newFixture(t, 2)
	recs, _ := f.log.List(context.Background(), Filter{})
	var j, c bytes.Buffer
	if err := WriteJSON(&j, recs); err != nil || !strings.Contains(j.String(), `"target": "target-marker-2"`) {
		t.Fatalf("JSON: %s %v", j.String(), err)
	}
	if err := WriteCSV(&c, recs); err != nil || strings.Count(c.String(), "\n") != 4 || !strings.Contains(c.String(), "field=host") {
		t.Fatalf("CSV: %s %v", c.String(), err)
	}
}
