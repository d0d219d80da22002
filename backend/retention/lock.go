package retention

import (
	"fmt"

	"github.com/pgsafe/pgsafe/backend/store"
)

// LockAdvice compares a storage's lock (each backup undeletable lockDays
// days; S3 Object Lock) with policy p, and says what a user would not
// expect, or "" when they fit. What a lock is for is that every backup the
// policy counts on cannot be taken away, so:
//
//   - a lock shorter than the window in which p keeps every backup
//     (keep-days D, daily N: N days, hourly N: N hours) leaves the older
//     part of that window deletable by anyone holding the storage's keys;
//   - a lock longer than the oldest backup p keeps (keep-days, daily,
//     weekly ×7, monthly ×31, yearly ×366 days) is safe but keeps each
//     backup, and its cost, until the lock ends, whatever p says.
//
// A policy with keep-last or a size cap only gives no number of days: no
// advice then (nor for a policy that keeps everything).
func LockAdvice(lockDays int, p store.RetentionPolicy) string {
	if lockDays <= 0 {
		return ""
	}
	window := max(p.KeepDays, p.Daily, (p.Hourly+23)/24)
	if window > lockDays {
		return fmt.Sprintf("the storage's lock (%s) is shorter than the %s in which this policy keeps every backup: "+
			"a backup older than %s can still be deleted by anyone holding the storage's keys; lock it for %s or more",
			plural(lockDays, "day"), plural(window, "day"), plural(lockDays, "day"), plural(window, "day"))
	}
	longest := max(window, 7*p.Weekly, 31*p.Monthly, 366*p.Yearly)
	if longest > 0 && p.KeepLast == 0 && lockDays > longest {
		return fmt.Sprintf("the storage's lock (%s) outlasts the %s this policy keeps backups: each backup stays on the storage, "+
			"and is paid for, until its lock ends; retention removes it then", plural(lockDays, "day"), plural(longest, "day"))
	}
	return ""
}
