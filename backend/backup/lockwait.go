package backup

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// DefaultLockReportAfter is how long a backup waits on a lock, without a
// byte from pg_dump, before it says who holds the lock.
const DefaultLockReportAfter = 5 * time.Second

// blockerSQL finds a lock one of PgSafe's sessions on this database waits
// for (the snapshot counting rows, pg_dump: both connect as the backup role
// with application_name pgsafe) and the session holding it. pg_locks,
// pg_blocking_pids and the pid, user and application columns of
// pg_stat_activity are readable by any role.
const blockerSQL = `
SELECT coalesce(w.relation::regclass::text, w.locktype), b.pid, coalesce(b.usename, ''), coalesce(b.application_name, '')
FROM pg_locks w
JOIN pg_stat_activity s ON s.pid = w.pid
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
JOIN pg_stat_activity b ON b.pid = bp.pid
WHERE NOT w.granted AND s.usename = current_user AND s.datname = current_database() AND s.application_name = 'pgsafe'
ORDER BY w.pid
LIMIT 1`

// lockWatch says, while the backup waits on a lock, what it waits for: every
// `after` without a byte from pg_dump it asks the server, through a session
// of its own, whether one of the backup's sessions waits on a lock and who
// holds it, and sets Progress.Waiting (cleared once bytes flow again). It
// runs until ctx ends. A failure to ask is logged once and ends the watch:
// it only explains, it never stops a backup.
func lockWatch(ctx context.Context, c pgtools.Conn, after time.Duration, prog *progressor, log *slog.Logger) {
	if after <= 0 {
		after = DefaultLockReportAfter
	}
	t := time.NewTicker(after)
	defer t.Stop()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	lastRaw, said := prog.rawBytes(), ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if raw := prog.rawBytes(); raw != lastRaw {
			lastRaw = raw
			if said != "" {
				said = ""
				prog.waiting("")
			}
			continue
		}
		if conn == nil {
			cfg, err := c.PgxConfig()
			if err == nil {
				conn, err = pgx.ConnectConfig(ctx, cfg)
			}
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("cannot ask the server what the backup waits for", "err", err)
				}
				return
			}
		}
		var rel, user, app string
		var pid int32
		err := conn.QueryRow(ctx, blockerSQL).Scan(&rel, &pid, &user, &app)
		msg := ""
		switch {
		case err == pgx.ErrNoRows:
		case err != nil:
			if ctx.Err() == nil {
				log.Warn("cannot ask the server what the backup waits for", "err", err)
			}
			return
		default:
			msg = waitingText(rel, pid, user, app)
		}
		if msg != said {
			said = msg
			if msg != "" {
				log.Warn("backup waiting for a lock", "relation", rel, "held_by_pid", pid, "held_by_user", user)
			}
			prog.waiting(msg)
		}
	}
}

// waitingText: "waiting for a lock on public.orders, held by session 4242
// (user app, application psql): end that session's transaction to let the
// backup go on".
func waitingText(rel string, pid int32, user, app string) string {
	who := fmt.Sprintf("session %d", pid)
	switch {
	case user != "" && app != "":
		who += fmt.Sprintf(" (user %s, application %s)", user, app)
	case user != "":
		who += fmt.Sprintf(" (user %s)", user)
	}
	return fmt.Sprintf("waiting for a lock on %s, held by %s: the backup goes on once that session's transaction ends", rel, who)
}
