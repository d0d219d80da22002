package update

import "time"

// Status is what the faces show about updates: whether this build checks,
// what the last check found, or why it failed.
type Status struct {
	// Enabled: this build has an update feed (a build without one never
	// checks).
	Enabled bool
	// Current is this build's version.
	Current string
	// Checking: a check is under way.
	Checking bool
	// CheckedAt is when a check last worked (zero: none yet).
	CheckedAt time.Time
	// Latest is the release that check found (nil: none yet), and
	// Available whether it is offered to this build; DownloadPage is where
	// to get it for this OS.
	Latest       *Release
	Available    bool
	DownloadPage string
	// Error is why the last check failed ("" when it worked), at FailedAt.
	// A release found before stays offered.
	Error    string
	FailedAt time.Time
}
