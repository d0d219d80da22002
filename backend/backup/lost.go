package backup

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// lostProbeTimeout bounds the questions asked of the server after pg_dump
// lost its connection.
const lostProbeTimeout = 5 * time.Second

// explainLost says why pg_dump's connection ended mid-run, when pg_dump's own
// words cannot: "terminating connection due to administrator command" is
// what both a server shutdown and pg_terminate_backend print, and a restart
// often closes the socket before any message is read. The snapshot session,
// opened before pg_dump and still held, and the server's start time tell:
//   - the snapshot session still answers: the server stayed up and ended
//     pg_dump's session alone (pg_terminate_backend, a time limit);
//   - the server answers with a newer start time: it restarted;
//   - otherwise the first explanation stands.
func explainLost(ctx context.Context, c pgtools.Conn, snap *snapshot, err error) error {
	var te *pgtools.ToolError
	if !errors.As(err, &te) || (te.Code != pgtools.CodeServerGone && te.Code != pgtools.CodeConnLost) || ctx.Err() != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, lostProbeTimeout)
	defer cancel()
	out := *te
	switch {
	case snap.conn.Ping(pctx) == nil:
		out.Code = pgtools.CodeTerminated
		out.Message = "the server ended pg_dump's session while it stayed up (an administrator or a tool ran pg_terminate_backend, or a server time limit ended it): retry, and if it happens again find out what ends long sessions"
	case restartedSince(pctx, c, snap.Postmaster):
		out.Code = pgtools.CodeServerGone
		out.Message = "the server restarted during the run and closed the connection: retry"
	default:
		return err
	}
	return &out
}

// restartedSince reports whether the server answers now with a start time
// after was.
func restartedSince(ctx context.Context, c pgtools.Conn, was time.Time) bool {
	cfg, err := c.PgxConfig()
	if err != nil {
		return false
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var started time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_postmaster_start_time()").Scan(&started); err != nil {
		return false
	}
	return started.After(was)
}
