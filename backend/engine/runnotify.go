package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/store"
)

// A server entry's run notifies once for the run ("Server prod: 18 of 20
// databases backed up"), not once per database: its databases' backups run
// under a context marked inRun, which holds back their own notifications
// (and storage-space warnings). A database of the run is told about on its
// own only when its outcome changed since its previous backup: it failed
// after succeeding, or succeeded after failing.

// Heartbeat notifiers are the exception: they ping for each database of the
// run (its start, success or failure) and take none of the run's own
// notifications (notify.Event.Audience).

type inRunKey struct{}

type serverRunKey struct{}

// asServerRun marks ctx as a server entry's run (its own events are for
// people, not heartbeats).
func asServerRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, serverRunKey{}, true)
}

// serverRun says whether ctx is a server entry's run (or within one).
func serverRun(ctx context.Context) bool { v, _ := ctx.Value(serverRunKey{}).(bool); return v }

// withinRun marks ctx as a database's backup within a server entry's run.
func withinRun(ctx context.Context) context.Context { return context.WithValue(ctx, inRunKey{}, true) }

// inRun says whether ctx is a database's backup within a server entry's
// run, whose notifications the run sends.
func inRun(ctx context.Context) bool { v, _ := ctx.Value(inRunKey{}).(bool); return v }

// lastOutcome is the status of database id's latest finished backup:
// succeeded or failed ("" when it has none; cancelled and interrupted
// backups say nothing of the database).
func (e *Engine) lastOutcome(ctx context.Context, id int64) store.Status {
	bs, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: id, Limit: 10})
	if err != nil {
		return ""
	}
	for _, b := range bs {
		if b.Status == store.StatusSucceeded || b.Status == store.StatusFailed {
			return b.Status
		}
	}
	return ""
}

// outcomeChanged says whether a database whose previous backup ended prev
// (store.Status, "" for none) changed state with this run's status now.
func outcomeChanged(prev store.Status, now string) bool {
	if prev == "" || now == string(store.StatusCancelled) {
		return false
	}
	return (prev == store.StatusSucceeded) != (now == string(store.StatusSucceeded))
}

// runNotifications are the notifications of a finished run of server entry
// server (rec its history record, m its manifest, prev each database's
// previous outcome by entry name): the run's own, then one per database
// whose outcome changed. A run that failed as a whole is told by failBackup.
func runNotifications(server string, rec store.Backup, m *backup.RunManifest, prev map[string]store.Status) []notify.Event {
	failed := m.Failed()
	n, of := len(m.Databases)-len(failed), len(m.Databases)
	run := notify.Event{Database: server, Audience: notify.AudiencePeople, Title: fmt.Sprintf("Server %s: %d of %d databases backed up", server, n, of),
		Fields: map[string]string{"backup": rec.ID, "databases": strconv.Itoa(of)}}
	var body []string
	for _, rd := range failed {
		body = append(body, rd.Database+" failed: "+firstLine(rd.Error))
	}
	var added []string
	for _, rd := range m.Databases {
		if rd.New {
			added = append(added, rd.Database)
		}
	}
	if len(added) > 0 {
		body = append(body, "New since the last run: "+strings.Join(added, ", "))
	}
	if len(m.Gone) > 0 {
		body = append(body, "No longer on the server (their backups are kept): "+strings.Join(m.Gone, ", "))
	}
	switch {
	case len(failed) > 0:
		run.Kind = notify.EventBackupFailed
	case rec.Error != "": // every database, but not every storage holds the run
		run.Kind = notify.EventBackupFailed
		body = append(body, rec.Error)
	default:
		run.Kind = notify.EventBackupSucceeded
		run.Fields["size"] = strconv.FormatInt(rec.StoredSize, 10) + " bytes"
	}
	run.Body = strings.Join(body, "\n")
	out := []notify.Event{run}
	for _, rd := range m.Databases {
		if !outcomeChanged(prev[rd.Entry], rd.Status) {
			continue
		}
		ev := notify.Event{Database: rd.Entry, Fields: map[string]string{"server": server}, Audience: notify.AudiencePeople}
		if rd.Status == string(store.StatusSucceeded) {
			ev.Kind, ev.Title = notify.EventBackupSucceeded, "Backed up again: "+rd.Entry
			ev.Body = fmt.Sprintf("%s is backed up again with the server %s (its previous backup failed).", rd.Database, server)
			ev.Fields["backup"] = rd.BackupID
		} else {
			ev.Kind = notify.EventBackupFailed
			ev.Body = fmt.Sprintf("%s was not backed up with the server %s (its previous backup succeeded): %s", rd.Database, server, rd.Error)
		}
		out = append(out, ev)
	}
	return out
}
