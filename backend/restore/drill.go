package restore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// DrillPrefix starts the name of every scratch database a drill creates.
const DrillPrefix = "pgsafe_drill_"

// Drill restores the backup of m into a new scratch database on the drill
// server (credentials able to create databases; server.Database is the
// maintenance database to connect to, "postgres" if empty), counts every
// table's rows, compares them with the counts the manifest recorded from
// the backup's snapshot, and drops the scratch database. Like Verify, it
// returns an error only if the drill could not be run.
func Drill(ctx context.Context, src Source, m *backup.Manifest, kr keys.Keyring, pgRestore string, drillServer pgtools.Conn) (*Result, error) {
	if pgRestore == "" {
		return nil, errNoClient
	}
	res := newResult("drill", m)
	srv, err := connectServer(ctx, drillServer, drillServer.Database)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	if err := srv.checkMajor(m.ServerMajor); err != nil {
		return nil, fmt.Errorf("drill server: %w", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	scratch := DrillPrefix + hex.EncodeToString(rnd[:])
	if err := srv.create(ctx, scratch); err != nil {
		return nil, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		srv.drop(dctx, scratch)
	}()

	a, err := openArchive(ctx, src, m, kr)
	if err != nil {
		return res.finish(err)
	}
	defer a.Close()
	var rr *pgtools.RestoreResult
	restoreStart := time.Now()
	err = feed(a, func(r io.Reader) error {
		var err error
		rr, err = pgtools.Restore(ctx, pgRestore, srv.to(scratch), r, "", pgtools.RestoreOptions{NoOwner: true, NoPrivileges: true})
		return err
	})
	if err != nil {
		return res.finish(err)
	}
	res.Warnings = rr.Warnings
	res.RestoreTime = time.Since(restoreStart)

	diffs, err := compareCounts(ctx, srv.to(scratch), m)
	if err != nil {
		return nil, err
	}
	res.Tables, res.RowDiffs = len(m.Tables), diffs
	for _, t := range m.Tables {
		if t.Counted {
			res.RowsCompared++
		}
	}
	if len(diffs) > 0 {
		names := make([]string, len(diffs))
		for i, d := range diffs {
			names[i] = fmt.Sprintf("%s (%d rows, %d expected)", d.Table, d.Got, d.Want)
			if d.Got < 0 {
				names[i] = d.Table + " (missing)"
			}
		}
		return res.finish(&Problem{Code: ProblemRowCounts, Detail: "restored tables differ from the backup's snapshot: " + listSome(names)})
	}
	return res.finish(nil)
}

// RowCheck is a restored database's row counts compared with the counts the
// manifest recorded from the backup's snapshot (the comparison a drill
// makes, see compareCounts).
type RowCheck struct {
	// Recorded: the backup recorded row counts (the database's row-count
	// setting was on); otherwise there is nothing to compare.
	Recorded bool `json:"recorded"`
	// Tables is how many tables were compared; Uncounted how many tables the
	// backup holds without a recorded count.
	Tables    int `json:"tables"`
	Uncounted int `json:"uncounted,omitempty"`
	// Diffs are the tables whose restored count differs (Got -1: missing).
	Diffs []RowDiff `json:"diffs,omitempty"`
	// Error says why the rows could not be counted (the restore itself
	// succeeded).
	Error string `json:"error,omitempty"`
}

// Match says the comparison was made and every table matched.
func (r RowCheck) Match() bool { return r.Recorded && r.Error == "" && len(r.Diffs) == 0 }

// checkRows compares the row counts of the database c with m's recorded
// counts.
func checkRows(ctx context.Context, c pgtools.Conn, m *backup.Manifest) RowCheck {
	var rc RowCheck
	for _, t := range m.Tables {
		if t.Counted {
			rc.Tables++
		} else {
			rc.Uncounted++
		}
	}
	rc.Recorded = rc.Tables > 0
	if !rc.Recorded {
		return rc
	}
	diffs, err := compareCounts(ctx, c, m)
	if err != nil {
		rc.Error = err.Error()
		return rc
	}
	rc.Diffs = diffs
	return rc
}

// compareCounts counts the rows of every counted manifest table in the
// restored database.
func compareCounts(ctx context.Context, c pgtools.Conn, m *backup.Manifest) ([]RowDiff, error) {
	cfg, err := c.PgxConfig()
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the restored database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var diffs []RowDiff
	for _, t := range m.Tables {
		if !t.Counted {
			continue
		}
		name := t.Schema + "." + t.Name
		var n int64
		err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{t.Schema, t.Name}.Sanitize()).Scan(&n)
		if err != nil {
			if isUndefinedTable(err) {
				diffs = append(diffs, RowDiff{Table: name, Want: t.Rows, Got: -1})
				continue
			}
			return nil, fmt.Errorf("count rows of %s: %w", name, err)
		}
		if n != t.Rows {
			diffs = append(diffs, RowDiff{Table: name, Want: t.Rows, Got: n})
		}
	}
	return diffs, nil
}

func isUndefinedTable(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && (pe.SQLState() == "42P01" || pe.SQLState() == "3F000")
}
