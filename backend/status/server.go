package status

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pgsafe/pgsafe/backend/store"
)

// A server entry backs up every database of its server: each database has
// its own status (Of), and the server entry's is OfServer.

// ofGone is the status of a server's database that is no longer on the
// server. It needs attention, once, with one reason: it is not failing
// (nothing is wrong with its backups, which are kept and restorable) and
// nothing is overdue (nothing is left to back up), but someone should know
// it went. Removing it from PgSafe (its backups stay in the history and
// the storages) clears it.
func ofGone(in Input) Status {
	var st Status
	for i := range in.Backups {
		b := &in.Backups[i]
		if b.Origin == store.OriginImport || b.Status == store.StatusRunning || b.Status == store.StatusCancelled || b.Status == store.StatusDamaged {
			continue
		}
		if st.Last == nil {
			st.Last = b
		}
		if b.Status == store.StatusSucceeded && b.Shown() == store.StatusSucceeded {
			st.LastGood = b
			break
		}
	}
	msg := "This database is no longer on the server (dropped or excluded)"
	if st.LastGood != nil {
		msg += "; its backups are kept and can be restored"
	}
	st.State = Attention
	st.Reasons = []Reason{{Code: CodeGone, Severity: Attention, Since: in.Gone, Message: msg,
		Action: "Remove it from PgSafe when its backups are no longer needed"}}
	return st
}

// Child is one database of a server entry with its status.
type Child struct {
	Name string // its name on the server
	Status
}

// OfServer is a server entry's status: own is its status from its runs
// (Of over the runs' records: listing the server, its schedule, its
// health checks), children its databases'. A run that missed some
// databases is said by those databases, so own's "partial" and "never
// verified" (verification is per database) are left out; one reason sums
// up the databases that are not protected, and the state is the worst of
// all.
func OfServer(own Status, children []Child) Status {
	st := Status{Last: own.Last, LastGood: own.LastGood, Reasons: []Reason{}}
	for _, r := range own.Reasons {
		if r.Code != CodePartial && r.Code != CodeNeverVerified {
			st.Reasons = append(st.Reasons, r)
		}
	}
	if len(children) > 0 {
		// Before its first run a server entry has no databases and says
		// only "no backup"; after it, its databases say the rest.
		st.Reasons = slicesDeleteCode(st.Reasons, CodeNoBackup)
	}
	worst, n := Protected, 0
	var names []string
	for _, c := range children {
		if c.State == Protected {
			continue
		}
		n++
		worst = Worse(worst, c.State)
		names = append(names, c.Name+" ("+c.State.Words()+")")
	}
	if n > 0 {
		sort.Strings(names)
		st.Reasons = append(st.Reasons, Reason{Code: CodeDatabases, Severity: worst,
			Message: fmt.Sprintf("%d of %d databases %s: %s", n, len(children), needWord(n), strings.Join(names, ", ")),
			Action:  "See its databases"})
	}
	st.State = Protected
	for _, r := range st.Reasons {
		st.State = Worse(st.State, r.Severity)
	}
	sort.SliceStable(st.Reasons, func(i, j int) bool { return st.Reasons[i].Severity.rank() > st.Reasons[j].Severity.rank() })
	return st
}

func needWord(n int) string {
	if n == 1 {
		return "needs a look"
	}
	return "need a look"
}

func slicesDeleteCode(rs []Reason, code string) []Reason {
	out := rs[:0]
	for _, r := range rs {
		if r.Code != code {
			out = append(out, r)
		}
	}
	return out
}
