// Package update tells whether a newer PgSafe has been released. It reads a
// small JSON feed over HTTPS (the format: docs/PACKAGING.md, "Update
// checks") and compares versions; it never downloads or runs anything.
//
// The pure parts are the feed (ParseFeed), the comparison (Offered) and
// when to check (Schedule); Checker does the one HTTPS request, sending
// nothing but the running version and OS.
package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Release is the newest release a feed describes.
type Release struct {
	// Version is its semver, without "v" ("0.2.0", "0.3.0-rc.1").
	Version string `json:"version"`
	// Published is its date, YYYY-MM-DD ("" when the feed has none).
	Published string `json:"published,omitempty"`
	// URL is its page (the release notes), https.
	URL string `json:"url"`
	// Notes is a short plain-text summary ("" when none).
	Notes string `json:"notes,omitempty"`
	// Downloads are per OS (GOOS: "linux", "windows", "darwin") the page or
	// file to download, https.
	Downloads map[string]string `json:"downloads,omitempty"`
}

// Limits of a feed.
const (
	// MaxNotes is the longest summary a feed may carry, in characters.
	MaxNotes = 2000
	// MaxFeedBytes is the largest feed a Checker reads.
	MaxFeedBytes = 64 << 10
)

// ErrInvalidFeed: the feed is not the JSON docs/PACKAGING.md describes.
var ErrInvalidFeed = errors.New("the update feed is not valid")

// ParseFeed reads a feed and checks every field it uses. Unknown fields are
// ignored, so the format can grow; links that are not https are refused.
func ParseFeed(data []byte) (Release, error) {
	var r Release
	if err := json.Unmarshal(data, &r); err != nil {
		return Release{}, fmt.Errorf("%w: %v", ErrInvalidFeed, err)
	}
	bad := func(format string, args ...any) (Release, error) {
		return Release{}, fmt.Errorf("%w: %s", ErrInvalidFeed, fmt.Sprintf(format, args...))
	}
	r.Version = strings.TrimPrefix(strings.TrimSpace(r.Version), "v")
	switch {
	case r.Version == "":
		return bad("it has no version")
	case !fullSemver("v" + r.Version):
		return bad("version %q is not a semantic version such as 1.2.3", human(r.Version))
	}
	if r.Published != "" {
		if _, err := time.Parse(time.DateOnly, r.Published); err != nil {
			return bad("published %q is not a date such as 2026-12-01", human(r.Published))
		}
	}
	if r.URL == "" {
		return bad("it has no url")
	}
	if err := httpsURL(r.URL); err != nil {
		return bad("url: %v", err)
	}
	if !utf8.ValidString(r.Notes) || utf8.RuneCountInString(r.Notes) > MaxNotes {
		return bad("notes are longer than %d characters", MaxNotes)
	}
	for goos, link := range r.Downloads {
		if err := httpsURL(link); err != nil {
			return bad("downloads.%s: %v", human(goos), err)
		}
	}
	return r, nil
}

// DownloadPage is where to download r for the OS goos: its entry in
// Downloads, else the release's page.
func (r Release) DownloadPage(goos string) string {
	if link := r.Downloads[goos]; link != "" {
		return link
	}
	return r.URL
}

// httpsURL accepts an absolute https URL with a host and no user info.
func httpsURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a link", human(s))
	case u.Scheme != "https":
		return fmt.Errorf("%q is not an https:// link", human(s))
	case u.Host == "":
		return fmt.Errorf("%q has no host", human(s))
	case u.User != nil:
		return fmt.Errorf("%q carries a user name", human(u.Redacted()))
	}
	return nil
}

// human shortens what a feed said for an error message.
func human(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}
