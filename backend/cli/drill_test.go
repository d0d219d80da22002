package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// `pgsafe verify … --drill` with no drill server set: the backup (latest,
// or a .pgsafe file) is restored into a throwaway local PostgreSQL, and the
// output (text and JSON) says the row counts matched and how long the
// restore took.
func TestVerifyDrillLocal(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items (id int PRIMARY KEY, name text);
		INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 5000) g;`)
	newMachine(t)
	if name, _, _, ok := testenv.ServerAccount(t); ok {
		t.Setenv("PGSAFE_DRILL_USER", name) // the tests run as root; PostgreSQL refuses root
	}
	folder := t.TempDir()
	run := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}
	run(0, "key", "init")
	run(0, "storage", "add", "local", "--name", "nas", "--path", folder)
	run(0, "db", "add", "--name", "shop", "--url", p.URL("shop"), "--storage", "nas", "--allow-write-access")
	run(0, "backup", "shop")

	out, _ := run(0, "verify", "latest", "--db", "shop", "--drill")
	if !strings.Contains(out, "drill OK") || !strings.Contains(out, "Restore drill passed: 1 table, row counts match, restored in ") ||
		!strings.Contains(out, "(local throwaway PostgreSQL 15)") {
		t.Fatalf("verify --drill: %s", out)
	}

	files, _ := filepath.Glob(filepath.Join(folder, "*", "*.pgsafe"))
	var file string
	for _, f := range files {
		if !strings.HasSuffix(f, ".manifest.pgsafe") {
			file = f
		}
	}
	if file == "" {
		t.Fatalf("no backup file in %s: %v", folder, files)
	}
	out, _ = run(0, "verify", file, "--drill", "--json")
	var res struct {
		Kind         string        `json:"kind"`
		OK           bool          `json:"ok"`
		RowsCompared int           `json:"rowsCompared"`
		RestoreTime  time.Duration `json:"restoreTime"`
		Server       string        `json:"server"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Kind != "drill" || !res.OK || res.RowsCompared != 1 ||
		res.RestoreTime <= 0 || res.Server != "local throwaway PostgreSQL 15" {
		t.Fatalf("verify FILE --drill --json: %+v %v\n%s", res, err, out)
	}

	// --drill and --drill-url are one or the other.
	if _, errOut := run(1, "verify", "latest", "--db", "shop", "--drill", "--drill-url", p.URL("postgres")); !strings.Contains(errOut, "drill") {
		t.Fatalf("both: %s", errOut)
	}
	if entries, _ := os.ReadDir(os.TempDir()); entries != nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "pgsafe-scratch-"+strconv.Itoa(os.Getpid())+"-") {
				t.Fatalf("throwaway server left: %s", e.Name())
			}
		}
	}
}
