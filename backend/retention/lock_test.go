package retention

import (
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/store"
)

func TestLockAdvice(t *testing.T) {
	for _, c := range []struct {
		days int
		p    store.RetentionPolicy
		want string // a part of the advice; "" for none
	}{
		{0, store.RetentionPolicy{KeepDays: 30}, ""},
		{30, store.RetentionPolicy{}, ""},
		{7, store.RetentionPolicy{KeepDays: 30}, "shorter than the 30 days in which this policy keeps every backup"},
		{7, store.RetentionPolicy{Daily: 14, Weekly: 8}, "lock it for 14 days or more"},
		{1, store.RetentionPolicy{Hourly: 48}, "shorter than the 2 days"},
		{30, store.RetentionPolicy{KeepDays: 30}, ""},
		{14, store.RetentionPolicy{Daily: 14, Weekly: 8}, ""},
		{60, store.RetentionPolicy{Daily: 14, Weekly: 8}, "outlasts the 56 days this policy keeps backups"},
		{400, store.RetentionPolicy{Daily: 7, Monthly: 12}, "outlasts the 372 days"},
		{400, store.RetentionPolicy{KeepLast: 7}, ""},
		{400, store.RetentionPolicy{MaxSizeBytes: 1 << 30}, ""},
	} {
		got := LockAdvice(c.days, c.p)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("LockAdvice(%d, %+v) = %q, want %q", c.days, c.p, got, c.want)
		}
	}
}
