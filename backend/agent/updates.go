package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/pgsafe/pgsafe/backend/update"
)

// watchUpdates checks for a newer PgSafe on the schedule (a short while
// after start, then daily; sooner again after a failure) until ctx ends.
// The core checks only when this build has a feed and the user has not
// turned the checks off; what it finds reaches the faces as update:status
// and the tray's menu.
func (a *Agent) watchUpdates(ctx context.Context, sched update.Schedule) {
	started := time.Now()
	var last time.Time
	failed := false
	for {
		if !waitUntil(ctx, sched.Next(started, last, failed)) {
			return
		}
		st, ran := a.core.AutoCheckForUpdates(ctx)
		last, failed = time.Now(), !ran || st.Error != ""
	}
}

// waitUntil waits for the wall clock to reach t, or for ctx to end (false).
// It looks at the clock at least hourly: a timer stands still while the
// computer sleeps, the wall clock does not.
func waitUntil(ctx context.Context, t time.Time) bool {
	t = t.Round(0) // the wall clock, not the monotonic one
	for {
		d := time.Until(t)
		if d <= 0 {
			return ctx.Err() == nil
		}
		timer := time.NewTimer(min(d, time.Hour))
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
	}
}

// openUpdatePage opens the newer release's download page in the system
// browser (the tray's "Update available" item). Only an https page from
// the feed is opened; PgSafe downloads nothing itself.
func (a *Agent) openUpdatePage() error {
	_, page := a.core.UpdateOffer()
	if page == "" {
		return errors.New("no newer PgSafe is known")
	}
	cmd, err := browserCommand(runtime.GOOS, page)
	if err != nil {
		return err
	}
	cmd = ownScope(cmd, os.Getenv("INVOCATION_ID"), exec.LookPath)
	c := exec.Command(cmd[0], cmd[1:]...)
	c.SysProcAttr = detached()
	if err := c.Start(); err != nil {
		return fmt.Errorf("open the download page in the browser: %w", err)
	}
	go c.Wait()
	return nil
}

// browserCommand opens the https page link in the system's browser on the
// OS goos.
func browserCommand(goos, link string) ([]string, error) {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an https:// page", link)
	}
	switch goos {
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler", u.String()}, nil
	case "darwin":
		return []string{"open", u.String()}, nil
	}
	return []string{"xdg-open", u.String()}, nil
}
