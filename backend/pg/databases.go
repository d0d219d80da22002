package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Databases lists the databases of conn's server that a server entry backs
// up: every one that accepts connections, templates excluded, by name.
func Databases(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_catalog.pg_database
		WHERE NOT datistemplate AND datallowconn ORDER BY datname`)
	if err != nil {
		return nil, fmt.Errorf("list the server's databases: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list the server's databases: %w", err)
	}
	return names, nil
}
