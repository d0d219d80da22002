package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

func (f *fixture) record(t *testing.T, action string) error {
	t.Helper()
	return f.log.Record(context.Background(), Entry{Action: action})
}

func (f *fixture) count(t *testing.T, where string) int64 {
	t.Helper()
	var n int64
	if err := f.st.DB().QueryRow("SELECT count(*) FROM audit_log WHERE " + where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) checkpoint(t *testing.T) Checkpoint {
	t.Helper()
	cp, _ := NewFileCheckpoint(filepath.Join(f.dir, CheckpointFile), f.mk)
	c, ok, err := cp.Load()
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v, %v", ok, err)
	}
	return c
}

// wantBroken asserts that err is a *BrokenError of kind at at.
func wantBroken(t *testing.T, err error, kind string, at int64) {
	t.Helper()
	var be *BrokenError
	if !errors.Is(err, ErrBroken) || !errors.As(err, &be) || be.Report.Kind != kind || be.Report.BrokenAt != at {
		t.Fatalf("Record = %v; want refused as broken at %d (%s)", err, at, kind)
	}
}

func TestTailDeletedRecordRefusesThenVerifyRecordsTheBreak(t *testing.T) {
	f := newFixture(t, 5) // entries 1 (genesis) to 6
	f.exec(t, "DELETE FROM audit_log WHERE seq >= 5")
	wantBroken(t, f.record(t, "app.started"), BreakTail, 5)
	if n := f.count(t, "1=1"); n != 4 {
		t.Fatalf("%d entries after a refused append, want 4", n)
	}
	if cp := f.checkpoint(t); cp.Seq != 6 {
		t.Fatalf("the checkpoint moved to %d", cp.Seq)
	}

	// Verify reports the break and records it, so the log goes on.
	rep, err := f.log.Verify(context.Background())
	if err != nil || rep.Intact || rep.Kind != BreakTail || rep.BrokenAt != 5 || rep.RecordedAt != 5 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	if err := f.record(t, "app.started"); err != nil {
		t.Fatalf("Record after the break was recorded: %v", err)
	}
	// Every later verification still reports it, and records it only once.
	for range 2 {
		rep, err = f.log.Verify(context.Background())
		if err != nil || rep.Intact || rep.Kind != BreakTail || rep.BrokenAt != 5 || rep.RecordedAt != 5 {
			t.Fatalf("later Verify = %+v, %v", rep, err)
		}
	}
	if n := f.count(t, "action = 'audit.broken'"); n != 1 {
		t.Fatalf("%d audit.broken entries, want 1", n)
	}
	if st, ok := f.log.Status(); !ok || st.BrokenAt != 5 {
		t.Fatalf("Status = %+v, %v", st, ok)
	}
}

func TestAllEntriesDeleted(t *testing.T) {
	for _, keepCheckpoint := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkpoint kept %v", keepCheckpoint), func(t *testing.T) {
			f := newFixture(t, 3)
			f.exec(t, "DELETE FROM audit_log")
			if !keepCheckpoint {
				if err := os.Remove(filepath.Join(f.dir, CheckpointFile)); err != nil {
					t.Fatal(err)
				}
			}
			rep := f.verify(t)
			if rep.Intact || rep.BrokenAt != 1 || rep.Kind != BreakTail {
				t.Fatalf("Verify of an emptied log = %+v (%s)", rep, rep)
			}
			wantBroken(t, f.record(t, "app.started"), BreakTail, 1)
			if n := f.count(t, "1=1"); n != 0 {
				t.Fatalf("%d entries after a refused append", n)
			}
			// Recorded: a new genesis under the same store ID, then the break.
			if rep, err := f.log.Check(context.Background()); err != nil || rep.Intact || rep.RecordedAt != 2 {
				t.Fatalf("Check = %+v, %v", rep, err)
			}
			if err := f.record(t, "app.started"); err != nil {
				t.Fatal(err)
			}
			if rep := f.verify(t); rep.Intact || rep.BrokenAt != 1 || rep.Kind != BreakTail || rep.Entries != 3 {
				t.Fatalf("after recording: %+v", rep)
			}
		})
	}
}

func TestNewLogStartsWithGenesis(t *testing.T) {
	f := newFixture(t, 0)
	// Nothing written yet: a new log, which the first append starts.
	if err := f.record(t, "app.started"); err != nil {
		t.Fatal(err)
	}
	recs, _ := f.log.List(context.Background(), Filter{})
	var id string
	if err := f.st.WriteTx(context.Background(), func(tx *sql.Tx) (err error) { id, err = store.StoreID(context.Background(), tx); return }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Action != ActionGenesis || recs[1].Fields["store_id"] != id || len(id) != 32 {
		t.Fatalf("entries %+v, store ID %q", recs, id)
	}
	if cp := f.checkpoint(t); cp.Seq != 2 || cp.StoreID != id {
		t.Fatalf("checkpoint %+v", cp)
	}
	// The settings database's store ID changed (or removed): the log is not
	// this database's.
	f.exec(t, "UPDATE meta SET value = 'other' WHERE key = 'store_id'")
	if rep := f.verify(t); rep.Intact || rep.Kind != BreakStore || rep.BrokenAt != 1 {
		t.Fatalf("store ID changed: %+v", rep)
	}
	wantBroken(t, f.record(t, "app.started"), BreakStore, 2)
	f.exec(t, "DELETE FROM meta WHERE key = 'store_id'")
	wantBroken(t, f.record(t, "app.started"), BreakStore, 2)
}

func TestCheckpointRolledBack(t *testing.T) {
	f := newFixture(t, 3) // entries 1 to 4
	p := filepath.Join(f.dir, CheckpointFile)
	old, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // entries 5 to 7
		if err := f.record(t, "test.more"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(p, old, 0o600); err != nil {
		t.Fatal(err)
	}
	wantBroken(t, f.record(t, "app.started"), BreakBehind, 5)
	if rep := f.verify(t); rep.Intact || rep.Kind != BreakBehind || rep.BrokenAt != 5 {
		t.Fatalf("Verify = %+v", rep)
	}
	if cp := f.checkpoint(t); cp.Seq != 4 {
		t.Fatalf("checkpoint at %d", cp.Seq)
	}
}

// Rolling the checkpoint back and cutting the log to it is consistent on
// this machine; a witness kept elsewhere (a backup's manifest) tells.
func TestWitnessCatchesRollbackOfLogAndCheckpoint(t *testing.T) {
	f := newFixture(t, 3) // entries 1 to 4
	p := filepath.Join(f.dir, CheckpointFile)
	old, _ := os.ReadFile(p)
	for range 3 {
		if err := f.record(t, "test.more"); err != nil {
			t.Fatal(err)
		}
	}
	w, err := f.log.Head(context.Background())
	if err != nil || w.Seq != 7 || len(w.MAC) != 32 || len(w.StoreID) != 32 {
		t.Fatalf("Head = %+v, %v", w, err)
	}
	// A witness of another settings database's log (a backup imported from
	// another machine) says nothing about this one.
	foreign := Witness{StoreID: "another-store", Seq: 99, MAC: w.MAC}
	f.log.SetWitnesses(func(context.Context) ([]Witness, error) { return []Witness{w, foreign}, nil })
	if rep := f.verify(t); !rep.Intact {
		t.Fatalf("with a matching witness: %+v", rep)
	}
	f.exec(t, "DELETE FROM audit_log WHERE seq > 4")
	os.WriteFile(p, old, 0o600)
	rep := f.verify(t)
	if rep.Intact || rep.Kind != BreakWitness || rep.BrokenAt != 7 {
		t.Fatalf("cut log and old checkpoint, witness at 7: %+v", rep)
	}
	// Recorded once; when the log grows past entry 7, the witness names
	// another entry 7, which is the same recorded break.
	if _, err := f.log.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := f.record(t, "test.after"); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := f.log.Check(context.Background()); err != nil || rep.Intact || rep.Kind != BreakWitness || rep.RecordedAt != 5 {
		t.Fatalf("later: %+v, %v", rep, err)
	}
	if n := f.count(t, "action = 'audit.broken'"); n != 1 {
		t.Fatalf("%d audit.broken entries", n)
	}
}

// A log begun by a PgSafe without genesis entries (entry 1 is an ordinary
// entry, the checkpoint has no store ID) stays verifiable: the next append
// binds it with a genesis entry after the existing ones.
func TestLogWithoutGenesisIsUpgraded(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	var cp Checkpoint
	if err := f.st.WriteTx(ctx, func(tx *sql.Tx) (err error) {
		cp, err = f.log.insert(ctx, tx, head{}, []Entry{{Action: "app.started"}, {Action: "database.created"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.log.cp.(*FileCheckpoint).Save(cp); err != nil { // version 1: no store ID
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(f.dir, CheckpointFile)); !strings.Contains(string(data), `"version":1`) {
		t.Fatalf("old checkpoint %s", data)
	}
	if rep := f.verify(t); !rep.Intact || rep.Entries != 2 {
		t.Fatalf("old log: %+v", rep)
	}
	if err := f.record(t, "app.started"); err != nil {
		t.Fatal(err)
	}
	recs, _ := f.log.List(ctx, Filter{})
	if len(recs) != 4 || recs[1].Action != ActionGenesis || recs[1].Fields["after_entry"] != "2" {
		t.Fatalf("after upgrade: %+v", recs)
	}
	if rep := f.verify(t); !rep.Intact || rep.Entries != 4 {
		t.Fatalf("upgraded log: %+v", rep)
	}
	if c := f.checkpoint(t); c.StoreID == "" || c.Seq != 4 {
		t.Fatalf("checkpoint %+v", c)
	}
	// An old checkpoint put back after the upgrade is refused.
	if err := f.log.cp.(*FileCheckpoint).Save(Checkpoint{Seq: 4, MAC: f.checkpoint(t).MAC}); err != nil {
		t.Fatal(err)
	}
	wantBroken(t, f.record(t, "app.started"), BreakBehind, 4)
}

// helperEnv names the settings directory a helper process appends to.
const helperEnv = "PGSAFE_AUDIT_TEST_HELPER_HOME"

// TestMain makes this test binary the other process of
// TestConcurrentProcessesAndLogs when that test starts it with helperEnv set.
func TestMain(m *testing.M) {
	if home := os.Getenv(helperEnv); home != "" {
		if err := appendAsHelper(home); err != nil {
			fmt.Fprintln(os.Stderr, "audit helper process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// appendAsHelper appends helperEnv_N entries to the log in home.
func appendAsHelper(home string) error {
	n, err := strconv.Atoi(os.Getenv(helperEnv + "_N"))
	if err != nil {
		return err
	}
	mk, err := keys.LoadKeyFile(filepath.Join(home, "test.key"))
	if err != nil {
		return err
	}
	l, closeLog, err := openLogAt(home, mk)
	if err != nil {
		return err
	}
	defer closeLog()
	for i := range n {
		if err := l.Record(context.Background(), Entry{Action: "test.process", Fields: map[string]string{"i": strconv.Itoa(i)}}); err != nil {
			return err
		}
	}
	return nil
}

// openLog opens another Store and Log on the files of a settings directory.
func openLog(t *testing.T, home string, mk *keys.MasterKey) *Log {
	t.Helper()
	l, closeLog, err := openLogAt(home, mk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeLog)
	return l
}

func openLogAt(home string, mk *keys.MasterKey) (*Log, func(), error) {
	st, err := store.Open(context.Background(), filepath.Join(home, store.FileName), mk)
	if err != nil {
		return nil, nil, err
	}
	cp, err := NewFileCheckpoint(filepath.Join(home, CheckpointFile), mk)
	if err == nil {
		var l *Log
		if l, err = New(st, mk, cp); err == nil {
			return l, func() { st.Close() }, nil
		}
	}
	st.Close()
	return nil, nil, err
}

// Two Logs on the same files in this process and one in another process
// append at once: every append is accepted (none sees another's entry
// without its checkpoint), the chain has no gap, and the checkpoint names
// the last entry.
func TestConcurrentProcessesAndLogs(t *testing.T) {
	f := newFixture(t, 1)
	if err := keys.WriteKeyFile(filepath.Join(f.dir, "test.key"), f.mk); err != nil {
		t.Fatal(err)
	}
	const perWriter = 60
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+f.dir, helperEnv+"_N="+strconv.Itoa(perWriter))
	var out []byte
	done := make(chan error, 1)
	go func() {
		var err error
		out, err = cmd.CombinedOutput()
		done <- err
	}()
	logs := []*Log{f.log, openLog(t, f.dir, f.mk)}
	var wg sync.WaitGroup
	for _, l := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWriter {
				if err := l.Record(context.Background(), Entry{Action: "test.concurrent"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	if n := f.count(t, "action = 'test.process'"); n != perWriter {
		t.Fatalf("the helper process appended %d entries\n%s", n, out)
	}
	want := int64(2 + 3*perWriter)
	rep := f.verify(t)
	if !rep.Intact || rep.Entries != want {
		t.Fatalf("after concurrent appends: %+v", rep)
	}
	var last int64
	var mac []byte
	f.st.DB().QueryRow("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&last, &mac)
	if cp := f.checkpoint(t); cp.Seq != last || last != want || string(cp.MAC) != string(mac) {
		t.Fatalf("checkpoint %d, last entry %d, want %d", cp.Seq, last, want)
	}
	if left, _ := filepath.Glob(filepath.Join(f.dir, ".audit.checkpoint.tmp-*")); len(left) > 0 {
		t.Fatalf("temporary checkpoints left: %v", left)
	}
}
