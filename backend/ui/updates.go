package ui

import (
	"context"
	"time"

	"github.com/pgsafe/pgsafe/backend/update"
)

// EventUpdates is the event that carries a new UpdateStatus: a check
// started or ended, or the setting changed.
const EventUpdates = "update:status"

// UpdateStatus is what Settings shows about updates.
type UpdateStatus struct {
	// Enabled: this build checks for updates (it has a feed); without one
	// Settings says "This build does not check for updates".
	Enabled bool `json:"enabled"`
	// Auto: the agent checks on its own, daily (the setting; on unless
	// turned off). AutoKnown is false while the settings are not open.
	Auto      bool `json:"auto"`
	AutoKnown bool `json:"autoKnown"`
	// Current is this build's version.
	Current  string `json:"current"`
	Checking bool   `json:"checking"`
	// CheckedAt is when a check last worked (RFC 3339; "" never).
	CheckedAt string `json:"checkedAt,omitempty"`
	// Available: Latest is newer than this build and offered; Published,
	// Notes and the two https links are the feed's.
	Available   bool   `json:"available"`
	Latest      string `json:"latest,omitempty"`
	Published   string `json:"published,omitempty"`
	Notes       string `json:"notes,omitempty"`
	ReleaseURL  string `json:"releaseUrl,omitempty"`
	DownloadURL string `json:"downloadUrl,omitempty"`
	// Error is why the last check failed ("" when it worked).
	Error string `json:"error,omitempty"`
}

// updateView is st in the window's terms, with the setting.
func (c *Core) updateView(ctx context.Context, st update.Status) UpdateStatus {
	v := UpdateStatus{Enabled: st.Enabled, Current: st.Current, Checking: st.Checking, Available: st.Available, Error: st.Error}
	if !st.CheckedAt.IsZero() {
		v.CheckedAt = st.CheckedAt.Format(time.RFC3339)
	}
	if r := st.Latest; r != nil {
		v.Latest, v.Published, v.Notes, v.ReleaseURL, v.DownloadURL = r.Version, r.Published, r.Notes, r.URL, st.DownloadPage
	}
	v.Auto, v.AutoKnown = true, false
	if e, err := c.engine(); err == nil {
		if on, err := e.AutoUpdateChecks(ctx); err == nil {
			v.Auto, v.AutoKnown = on, true
		} else {
			c.log.Warn("reading the update-check setting", "err", err)
		}
	}
	return v
}

// updatesChanged tells the faces (and the tray) a new status.
func (c *Core) updatesChanged(st update.Status) {
	c.emit(EventUpdates, c.updateView(context.Background(), st))
}

// UpdateStatus is what the last update check found.
func (s *SystemService) UpdateStatus() UpdateStatus {
	return s.core.updateView(context.Background(), s.core.updates.Status())
}

// CheckForUpdates checks the feed now ("Check now"), whether or not the
// daily checks are on, and returns what it found. It downloads nothing.
func (s *SystemService) CheckForUpdates() UpdateStatus {
	ctx := context.Background()
	return s.core.updateView(ctx, s.core.updates.Check(ctx))
}

// SetAutoUpdateChecks turns the agent's daily update checks on or off.
func (s *SystemService) SetAutoUpdateChecks(on bool) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := e.SetAutoUpdateChecks(ctx, on); err != nil {
		return err
	}
	s.core.updatesChanged(s.core.updates.Status())
	return nil
}

// AutoCheckForUpdates is the agent's own check (at start, then daily): it
// checks only when this build has a feed, the settings are open and the
// user has not turned the checks off. ran says whether it checked.
func (c *Core) AutoCheckForUpdates(ctx context.Context) (st update.Status, ran bool) {
	st = c.updates.Status()
	if !st.Enabled {
		return st, false
	}
	e, err := c.engine()
	if err != nil {
		return st, false
	}
	if on, err := e.AutoUpdateChecks(ctx); err != nil || !on {
		return st, false
	}
	return c.updates.Check(ctx), true
}

// UpdateOffer is the release the tray offers: its version and download
// page ("" when none is available).
func (c *Core) UpdateOffer() (version, page string) {
	st := c.updates.Status()
	if !st.Available || st.Latest == nil {
		return "", ""
	}
	return st.Latest.Version, st.DownloadPage
}
