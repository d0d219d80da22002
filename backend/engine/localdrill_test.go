package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools"
	"github.com/pgsafe/pgsafe/backend/pgtools/scratch"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// localDrills lets e's throwaway drill servers run as the harness's
// unprivileged account when the tests run as root (PostgreSQL refuses root),
// with the server programs in dirs only.
func localDrills(t *testing.T, e *Engine, dirs ...string) {
	if name, _, _, ok := testenv.ServerAccount(t); ok {
		e.drillUser = name
	}
	e.drillServerDirs = dirs
}

// scratchLeft lists this process's throwaway cluster folders, and on Linux
// the processes whose command line names one.
func scratchLeft(t *testing.T) []string {
	mine := scratch.Prefix + strconv.Itoa(os.Getpid()) + "-"
	var left []string
	entries, _ := os.ReadDir(os.TempDir())
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), mine) {
			left = append(left, filepath.Join(os.TempDir(), en.Name()))
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), mine) {
			left = append(left, "process "+filepath.Base(filepath.Dir(p))+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return left
}

// TestDrillWithoutDrillServer: with no drill server set, a drill (by hand
// and by policy) restores into a throwaway local PostgreSQL of the
// backup's major, reports row counts and the restore time, is kept in the
// history, and leaves no folder or process; with only newer server
// programs it uses them; with none it says what to install and records
// nothing.
func TestDrillWithoutDrillServer(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	d15, d17 := testenv.ServerBinDir(t, 15), testenv.ServerBinDir(t, 17)
	localDrills(t, e, d15, d17)
	_, _, _ = shopOnNAS(t, e, 1500)
	b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.DrillServer(ctx)
	if err != nil || ds.Set || !strings.Contains(ds.Local, "PostgreSQL 17") || ds.LocalProblem != "" {
		t.Fatalf("drill server %+v, %v", ds, err)
	}

	res, err := e.DrillBackup(ctx, *b)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Kind != "drill" || res.Tables != 1 || res.RowsCompared != 1 || res.RestoreTime <= 0 ||
		res.Server != "local throwaway PostgreSQL 15" {
		t.Fatalf("drill %+v", res)
	}
	sum := DrillSummary(res)
	if !strings.HasPrefix(sum, "Restore drill passed: 1 table, row counts match, restored in ") || !strings.HasSuffix(sum, " s (local throwaway PostgreSQL 15)") {
		t.Fatalf("summary %q", sum)
	}
	if left := scratchLeft(t); len(left) != 0 {
		t.Fatalf("left after the drill: %v", left)
	}
	rs, err := e.store.Restores(ctx, store.RestoreFilter{Kind: store.RunDrill, DatabaseID: b.DatabaseID})
	if err != nil || len(rs) != 1 || rs[0].Status != store.StatusSucceeded || !strings.HasPrefix(rs[0].Target, "local throwaway PostgreSQL 15.") {
		t.Fatalf("history %+v, %v", rs, err)
	}
	var kept restore.Result
	if err := json.Unmarshal(rs[0].Data, &kept); err != nil || kept.RestoreTime != res.RestoreTime || kept.RowsCompared != 1 {
		t.Fatalf("kept result %+v, %v", kept, err)
	}
	rows, err := e.BackupHistory(ctx, "shop", 1)
	if err != nil || rows[0].Checked == nil || rows[0].Checked.Kind != "drill" || !rows[0].Checked.OK || rows[0].Checked.Summary != sum {
		t.Fatalf("backups table %+v, %v", rows, err)
	}

	// Only a newer server installed: PG 17 restores the PG 15 backup.
	localDrills(t, e, d17)
	res, err = e.DrillBackupLocal(ctx, *b)
	if err != nil || !res.OK || res.Server != "local throwaway PostgreSQL 17" || res.RowsCompared != 1 {
		t.Fatalf("drill with 17: %+v, %v", res, err)
	}

	// Automatic drills use it too.
	if err := e.SetDrillPolicy(ctx, "shop", DrillPolicy{EveryBackups: 1}); err != nil {
		t.Fatal(err)
	}
	b2, err := e.BackupNow(ctx, "shop", store.OriginScheduled, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Wait()
	if lc, err := e.LastCheck(ctx, "shop"); err != nil || lc.Kind != store.RunDrill || !lc.OK || lc.BackupID != b2.ID {
		t.Fatalf("automatic drill: %+v, %v", lc, err)
	}

	// No server programs: what to install, nothing recorded.
	localDrills(t, e, t.TempDir())
	before, _ := e.store.Restores(ctx, store.RestoreFilter{Kind: store.RunDrill, DatabaseID: b.DatabaseID})
	_, err = e.DrillBackup(ctx, *b)
	var ns *pgtools.NoServerError
	if !errors.As(err, &ns) || !strings.Contains(err.Error(), pgtools.ServerInstallAdvice(15)) || strings.Contains(err.Error(), "--") {
		t.Fatalf("no server programs: %v", err)
	}
	after, _ := e.store.Restores(ctx, store.RestoreFilter{Kind: store.RunDrill, DatabaseID: b.DatabaseID})
	if len(after) != len(before) {
		t.Fatalf("a drill that could not run was recorded: %d → %d", len(before), len(after))
	}
	if ds, err := e.DrillServer(ctx); err != nil || ds.Local != "" || !strings.Contains(ds.LocalProblem, "No PostgreSQL server programs") {
		t.Fatalf("drill server without programs: %+v, %v", ds, err)
	}
	if left := scratchLeft(t); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
}

// The npm majors: a backup of a PostgreSQL 13 server is drilled in a
// throwaway 13 (the closest major), with 15 and 17 installed too.
func TestDrillWithoutDrillServerPG13(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	localDrills(t, e, testenv.ServerBinDir(t, 17), testenv.ServerBinDir(t, 15), testenv.ServerBinDir(t, 13))
	srv := testenv.Postgres(t, testenv.WithVersion(13))
	srv.CreateDB(t, "old")
	srv.Exec(t, "old", `CREATE TABLE a (id int); INSERT INTO a SELECT generate_series(1, 700);
		CREATE SCHEMA s; CREATE TABLE s.b (t text); INSERT INTO s.b SELECT 'x' || g FROM generate_series(1, 30) g;`)
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "old", URL: srv.URL("old"), StorageNames: []string{"nas"}, CountRows: true}, AddOptions{AllowWriteAccess: true}); err != nil {
		t.Fatal(err)
	}
	b, err := e.BackupNow(ctx, "old", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.DrillBackup(ctx, *b)
	if err != nil || !res.OK || res.Server != "local throwaway PostgreSQL 13" || res.Tables != 2 || res.RowsCompared != 2 {
		t.Fatalf("drill: %+v, %v", res, err)
	}
	if left := scratchLeft(t); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
}

// A PgSafe killed mid-drill left its throwaway server's folder: the next
// start removes it; a live process's folder stays.
func TestOpenSweepsAKilledDrill(t *testing.T) {
	// A private temporary folder: a stale folder in the shared one would be
	// swept, with a warning on stderr, by whichever PgSafe of another test
	// package opened next (TestRunHeadlessSchedules read that warning as
	// part of a --json answer).
	t.Setenv("TMPDIR", t.TempDir())
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(os.TempDir(), scratch.Prefix+strconv.Itoa(dead.Process.Pid)+"-test")
	live := filepath.Join(os.TempDir(), scratch.Prefix+"1-test") // pid 1 always runs
	for _, d := range []string{stale, live} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(stale); os.RemoveAll(live) })
	newEngine(t)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the killed drill's folder is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("a live process's folder was removed: %v", err)
	}
}
