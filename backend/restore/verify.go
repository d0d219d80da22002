package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Result is the outcome of a verification or drill: OK, or the first problem.
type Result struct {
	BackupID string    `json:"backupId"`
	Kind     string    `json:"kind"` // "verify" or "drill"
	OK       bool      `json:"ok"`
	Problem  *Problem  `json:"problem,omitempty"`
	Tables   int       `json:"tables"`             // tables checked
	RowDiffs []RowDiff `json:"rowDiffs,omitempty"` // drills: tables whose counts differ
	Warnings []string  `json:"warnings,omitempty"` // drills: pg_restore's complaints
	// Drills: RowsCompared is how many tables' restored row counts were
	// compared with the backup's snapshot (the tables it counted);
	// RestoreTime is how long the restore itself took (reading, decrypting
	// and pg_restore, as a real restore would); Server is where it ran.
	RowsCompared int           `json:"rowsCompared,omitempty"`
	RestoreTime  time.Duration `json:"restoreTime,omitempty"`
	Server       string        `json:"server,omitempty"`
	Started      time.Time     `json:"started"`
	Duration     time.Duration `json:"duration"`
}

// RowDiff is a table whose restored row count differs from the manifest's.
type RowDiff struct {
	Table string `json:"table"`
	Want  int64  `json:"want"`
	Got   int64  `json:"got"` // -1: the table is missing
}

func newResult(kind string, m *backup.Manifest) *Result {
	return &Result{BackupID: m.BackupID, Kind: kind, Started: time.Now().UTC()}
}

// finish sets OK from err: a *Problem is the backup's fault and goes into
// the result; any other error means the check could not be done and is
// returned.
func (r *Result) finish(err error) (*Result, error) {
	r.Duration = time.Since(r.Started)
	var p *Problem
	if errors.As(err, &p) {
		r.Problem = p
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	r.OK = r.Problem == nil
	return r, nil
}

// Verify reads the stored backup of m from src and checks, without any
// database: every chunk authenticates (so the file was not modified,
// truncated or reordered), the file's size and SHA-256 match the manifest,
// and pg_restore reads the archive's table of contents, which holds every
// table the manifest recorded. It returns an error only when the check could
// not be made (storage unreachable, no pg_restore); a bad backup is a Result
// with OK false and the first Problem. The globals object (roles and
// tablespaces), when the manifest names one, is checked the same way.
func Verify(ctx context.Context, src Source, m *backup.Manifest, kr keys.Keyring, pgRestore string) (*Result, error) {
	res := newResult("verify", m)
	a, err := openArchive(ctx, src, m, kr)
	if err != nil {
		return res.finish(err)
	}
	defer a.Close()

	var toc *pgtools.TOC
	err = feed(a, func(r io.Reader) error {
		var err error
		toc, err = pgtools.List(ctx, pgRestore, r)
		return err
	})
	var te *pgtools.ToolError
	if errors.As(err, &te) && te.Code != pgtools.CodeCancelled && ctx.Err() == nil {
		// The file is intact (feed checked it first), yet pg_restore cannot read it.
		err = &Problem{Code: ProblemTOC, Detail: "pg_restore cannot read the archive: " + te.Detail, Err: err}
	}
	if err != nil {
		return res.finish(err)
	}
	var missing []string
	for _, t := range m.Tables {
		if !toc.HasTableData(t.Schema, t.Name) {
			missing = append(missing, t.Schema+"."+t.Name)
		}
	}
	res.Tables = len(m.Tables)
	if len(missing) > 0 {
		return res.finish(&Problem{Code: ProblemTables, Detail: "the archive lacks tables the manifest recorded: " + listSome(missing)})
	}
	if _, err := ReadGlobals(ctx, src, m, kr); err != nil {
		return res.finish(err)
	}
	if m.Globals == nil && m.GlobalsMissing != "" {
		res.Warnings = append(res.Warnings, "saved without the server's roles: "+m.GlobalsMissing)
	}
	return res.finish(nil)
}

// feed streams the whole archive a to consume (pg_restore) and then checks
// a's size and hash. The archive is always read to its end, even if consume
// stops reading early, so every chunk is authenticated. A problem with the
// file comes first, then consume's error.
func feed(a *archive, consume func(io.Reader) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := consume(pr)
		pr.CloseWithError(errConsumerDone) // unblock the writer if it stopped early
		done <- err
	}()
	_, readErr := io.Copy(&lenient{pw}, a)
	pw.CloseWithError(readErr)
	consumeErr := <-done
	if readErr != nil {
		return readErr
	}
	if err := a.check(); err != nil {
		return err
	}
	return consumeErr
}

var errConsumerDone = errors.New("pg_restore stopped reading")

// lenient forwards writes until the consumer stops reading, then discards
// them, so the source is still read (and authenticated) to its end.
type lenient struct{ w io.Writer }

func (l *lenient) Write(p []byte) (int, error) {
	if l.w != nil {
		if _, err := l.w.Write(p); err != nil {
			l.w = nil
		}
	}
	return len(p), nil
}

func listSome(names []string) string {
	if len(names) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
	}
	return strings.Join(names, ", ")
}
