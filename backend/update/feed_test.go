package update

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFeed(t *testing.T) {
	good := `{"version":"0.2.0","published":"2026-12-01","url":"https://example.org/releases/tag/v0.2.0",
		"notes":"Faster restores.","downloads":{"linux":"https://example.org/linux","darwin":"https://example.org/PgSafe.dmg"},
		"future":{"field":1}}`
	r, err := ParseFeed([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "0.2.0" || r.Published != "2026-12-01" || r.Notes != "Faster restores." || r.URL != "https://example.org/releases/tag/v0.2.0" {
		t.Errorf("parsed %+v", r)
	}
	for goos, want := range map[string]string{"linux": "https://example.org/linux", "darwin": "https://example.org/PgSafe.dmg", "windows": r.URL} {
		if got := r.DownloadPage(goos); got != want {
			t.Errorf("DownloadPage(%s) = %q, want %q", goos, got, want)
		}
	}
	if r, err := ParseFeed([]byte(`{"version":"v1.0.0","url":"https://example.org/"}`)); err != nil || r.Version != "1.0.0" {
		t.Errorf("a leading v: %+v, %v", r, err)
	}

	for name, c := range map[string]struct{ feed, says string }{
		"not JSON":        {`<html>oops</html>`, "invalid character"},
		"an array":        {`[{"version":"0.2.0"}]`, "cannot unmarshal array"},
		"no version":      {`{"url":"https://example.org/"}`, "it has no version"},
		"not semver":      {`{"version":"0.2","url":"https://example.org/"}`, `version "0.2" is not a semantic version`},
		"no url":          {`{"version":"0.2.0"}`, "it has no url"},
		"http url":        {`{"version":"0.2.0","url":"http://example.org/"}`, "not an https:// link"},
		"javascript url":  {`{"version":"0.2.0","url":"javascript:alert(1)"}`, "not an https:// link"},
		"no host":         {`{"version":"0.2.0","url":"https:///path"}`, "has no host"},
		"user in url":     {`{"version":"0.2.0","url":"https://me:pw@example.org/"}`, "carries a user name"},
		"http download":   {`{"version":"0.2.0","url":"https://example.org/","downloads":{"windows":"http://example.org/x.exe"}}`, "downloads.windows"},
		"bad date":        {`{"version":"0.2.0","url":"https://example.org/","published":"1 Dec 2026"}`, "not a date"},
		"notes too long":  {`{"version":"0.2.0","url":"https://example.org/","notes":"` + strings.Repeat("a", MaxNotes+1) + `"}`, "longer than 2000"},
		"version number":  {`{"version":2,"url":"https://example.org/"}`, "cannot unmarshal number"},
		"empty document":  {``, "unexpected end of JSON input"},
		"null everywhere": {`{"version":null,"url":null}`, "it has no version"},
	} {
		_, err := ParseFeed([]byte(c.feed))
		if !errors.Is(err, ErrInvalidFeed) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want an invalid feed saying %q", name, err, c.says)
		}
	}
}

func TestOffered(t *testing.T) {
	for _, c := range []struct {
		running, latest string
		offered         bool
	}{
		{"0.1.0", "0.2.0", true},
		{"0.1.0", "0.1.1", true},
		{"0.2.0", "0.2.0", false},                            // the same
		{"0.3.0", "0.2.0", false},                            // never a downgrade
		{"1.0.0", "0.9.9", false},                            // nor across majors
		{"0.10.0", "0.9.0", false},                           // numbers, not strings
		{"0.9.0", "0.10.0", true},                            // numbers, not strings
		{"0.1.0-dev.264+gb0bf155214df", "0.1.0", true},       // a dev build is older than its release
		{"0.1.0-dev.264+gb0bf155214df.dirty", "0.1.0", true}, // dirty too
		{"0.2.0-dev.3+gb0bf155214df", "0.1.0", false},        // a dev build towards 0.2.0 is newer than 0.1.0
		{"0.2.0", "0.2.0+build.7", false},                    // build metadata does not count
		{"0.2.0", "0.3.0-rc.1", false},                       // a release build is offered releases only
		{"0.2.0-rc.1", "0.3.0-rc.1", true},                   // a pre-release build is offered pre-releases
		{"0.3.0-dev.5+gb0bf155214df", "0.3.0-rc.1", true},    // and so is a dev build ("dev" < "rc")
		{"0.3.0-rc.2", "0.3.0-rc.1", false},                  // no downgrade among them
		{"0.3.0-rc.1", "0.3.0", true},                        // the release after its candidate
		{"v0.1.0", "v0.2.0", true},                           // a leading v is fine
	} {
		got, err := Offered(c.running, c.latest)
		if err != nil || got != c.offered {
			t.Errorf("Offered(running %s, latest %s) = %v, %v; want %v", c.running, c.latest, got, err, c.offered)
		}
	}
	if _, err := Offered("unknown", "0.2.0"); err == nil || !strings.Contains(err.Error(), "this build's version") {
		t.Errorf("an unversioned build: %v", err)
	}
	if _, err := Offered("0.1.0", "0.2"); !errors.Is(err, ErrInvalidFeed) {
		t.Errorf("a shorthand version in the feed: %v", err)
	}
	if _, err := Offered("0.1.0", "latest"); !errors.Is(err, ErrInvalidFeed) {
		t.Errorf("a feed's version that is not semver: %v", err)
	}
}
