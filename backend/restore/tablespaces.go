package restore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Tablespaces. The roles saved with a backup name the server's tablespaces,
// but a restore does not create them (a tablespace is a directory on the
// target's disk, which only its administrator can choose). A backup whose
// tables or indexes were in a tablespace other than the default asks for it
// (pg_dump writes "SET default_tablespace = x" before them): the restore
// checks, before anything is written, that the target has each, and when it
// lacks some says so (RolesProblem.MissingTablespaces) and offers to restore
// without tablespaces (Options.NoTablespaces: pg_restore --no-tablespaces,
// everything in the target's default tablespace) instead of failing midway.

// neededTablespaces are the tablespaces the archive's statements put objects
// in (the default tablespace, "", left out), sorted.
func neededTablespaces(stmts []pgtools.Statement) []string {
	var out []string
	for _, s := range stmts {
		toks := pgtools.Tokenize(s.Text)
		if len(toks) < 4 || !toks[0].Is("SET") || !toks[1].Is("default_tablespace") || !(toks[2].Text == "=" || toks[2].Is("TO")) {
			continue
		}
		v := toks[3]
		name := ""
		switch v.Kind {
		case pgtools.TokString:
			name = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(v.Text, "'"), "'"), "''", "'")
		case pgtools.TokWord, pgtools.TokQuoted:
			if !v.Is("DEFAULT") {
				name = v.Ident()
			}
		}
		if name != "" {
			out = append(out, name)
		}
	}
	return uniq(out)
}

// tablespaces says which of names exist on the server.
func (s *server) tablespaces(ctx context.Context, names []string) (map[string]bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT spcname FROM pg_tablespace WHERE spcname = ANY($1)", names)
	if err != nil {
		return nil, fmt.Errorf("read the target server's tablespaces: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the target server's tablespaces: %w", err)
	}
	out := map[string]bool{}
	for _, t := range got {
		out[t] = true
	}
	return out, nil
}

// missingTablespaces are the tablespaces stmts need that the target lacks.
func (s *server) missingTablespaces(ctx context.Context, stmts []pgtools.Statement) ([]string, error) {
	need := neededTablespaces(stmts)
	if len(need) == 0 {
		return nil, nil
	}
	have, err := s.tablespaces(ctx, need)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range need {
		if !have[t] {
			out = append(out, t)
		}
	}
	return out, nil
}
