package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Globals are a server's roles (attributes, settings, memberships; never
// passwords) and tablespaces, as `pg_dumpall --globals-only
// --no-role-passwords` prints them: what a database's owners and grants
// need on another server. Either SQL is set, or Missing says why not.
type Globals struct {
	SQL              []byte
	PgDumpallVersion string
	Roles            []string // the roles SQL creates, sorted
	Missing          string   // why there is no SQL (no pg_dumpall, a permission)
}

// GlobalsInfo names a backup's globals object in its manifest.
type GlobalsInfo struct {
	Object           string   `json:"object"`
	RawSize          int64    `json:"raw_size"`    // the SQL
	StoredSize       int64    `json:"stored_size"` // the encrypted object
	SHA256           string   `json:"sha256"`      // hex, of the encrypted object
	PgDumpallVersion string   `json:"pg_dumpall_version"`
	Roles            []string `json:"roles"` // the roles it creates
}

// GlobalsName is the object name of a backup's globals.
func GlobalsName(prefix, databaseID string, id format.BackupID) string {
	return path.Join(prefix, databaseID, id.String()+".globals.pgsafe")
}

// GlobalsOf is the globals' object name for a backup's object name.
func GlobalsOf(object string) string {
	return strings.TrimSuffix(object, ".pgsafe") + ".globals.pgsafe"
}

// DumpGlobals captures the globals of conn's server (serverMajor) with the
// closest pg_dumpall at least as new as the server among clients. It never
// fails: when the globals cannot be read, Missing says why and what to do,
// and the backup goes on without them.
func DumpGlobals(ctx context.Context, clients []pgtools.Install, conn pgtools.Conn, serverMajor int) *Globals {
	var with []pgtools.Install
	for _, in := range clients {
		if in.PgDumpall != "" {
			with = append(with, in)
		}
	}
	in, err := pgtools.Pick(with, serverMajor)
	if err != nil {
		return &Globals{Missing: fmt.Sprintf("no pg_dumpall of PostgreSQL %d or newer was found, so the roles and tablespaces were not saved with the backup: %s",
			serverMajor, pgtools.InstallAdviceFor(serverMajor))}
	}
	sql, err := pgtools.DumpGlobals(ctx, in.PgDumpall, conn)
	if err != nil {
		if ctx.Err() != nil {
			return &Globals{Missing: "the roles were not saved: the backup was stopped"}
		}
		detail := err.Error()
		var te *pgtools.ToolError
		if errors.As(err, &te) && te.Detail != "" {
			detail = te.Detail
		}
		return &Globals{Missing: "pg_dumpall could not read the server's roles and tablespaces, so they were not saved with the backup (" +
			detail + "); a restore to another server must create the roles itself"}
	}
	return &Globals{SQL: sql, PgDumpallVersion: in.Version.String(), Roles: GlobalsRoles(sql)}
}

// GlobalsRoles returns the roles a globals SQL creates, sorted.
func GlobalsRoles(sql []byte) []string {
	var out []string
	for _, st := range pgtools.SplitStatements(string(sql)) {
		toks := pgtools.Tokenize(st.Text)
		if len(toks) >= 3 && toks[0].Is("CREATE") && (toks[1].Is("ROLE") || toks[1].Is("USER") || toks[1].Is("GROUP")) {
			out = append(out, toks[2].Ident())
		}
	}
	sort.Strings(out)
	return out
}

// sealGlobals encrypts the globals in the backup's format and describes the
// object in the manifest.
func sealGlobals(job Job, id format.BackupID, g *Globals) ([]byte, *GlobalsInfo, error) {
	var enc bytes.Buffer
	w, err := format.NewWriter(&enc, job.Key, format.Header{BackupID: id, Compression: format.CompressionZstd})
	if err != nil {
		return nil, nil, err
	}
	if _, err := w.Write(g.SQL); err != nil {
		return nil, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(enc.Bytes())
	return enc.Bytes(), &GlobalsInfo{Object: GlobalsName(job.Prefix, job.DatabaseID, id), RawSize: int64(len(g.SQL)),
		StoredSize: int64(enc.Len()), SHA256: hex.EncodeToString(sum[:]), PgDumpallVersion: g.PgDumpallVersion, Roles: g.Roles}, nil
}
