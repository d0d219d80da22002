package notify

import (
	"maps"
	"regexp"
	"slices"
	"time"
)

// Event kinds: what happened. A notifier's Events list names some of them.
const (
	EventBackupStarted     = "backup.started" // heartbeat notifiers' by default, no one else's
	EventBackupFailed      = "backup.failed"
	EventBackupSucceeded   = "backup.succeeded"
	EventVerifyFailed      = "verify.failed"
	EventDrillFailed       = "drill.failed"
	EventDatabaseDown      = "database.down"
	EventDatabaseUp        = "database.up"
	EventStorageNearlyFull = "storage.nearly_full"
	EventTest              = "test" // sent by Test only; every notifier takes it
)

// Event is one thing worth telling someone about. Title is one line; Body
// may be several. Fields are extra facts shown as "name: value" lines
// (sorted by name), e.g. "storage" or "error". None of them may hold a
// password, a key or a connection string with a password: callers put
// none there, and Send scrubs what looks like one anyway.
type Event struct {
	Kind     string            `json:"kind"`
	Database string            `json:"database,omitempty"`
	Title    string            `json:"title"`
	Body     string            `json:"body,omitempty"`
	At       time.Time         `json:"at"`
	Fields   map[string]string `json:"fields,omitempty"`
	// Duration is how long a finished backup took (a heartbeat's ping
	// time); zero for other events.
	Duration time.Duration `json:"-"`
	// Audience limits which notifiers take the event: "" every one that
	// wants its kind. A server entry's run tells people once for all its
	// databases (AudiencePeople) while heartbeats ping for each database
	// (AudienceHeartbeats).
	Audience string `json:"-"`
}

// Event audiences.
const (
	AudienceHeartbeats = "heartbeats" // heartbeat notifiers only
	AudiencePeople     = "people"     // every notifier but heartbeats
)

// reaches says whether an event for audience goes to a notifier of kind.
func reaches(audience, kind string) bool {
	switch audience {
	case AudienceHeartbeats:
		return kind == KindHeartbeat
	case AudiencePeople:
		return kind != KindHeartbeat
	}
	return true
}

// EventInfo describes an event kind for a settings screen.
type EventInfo struct {
	Kind    string `json:"kind"`
	Label   string `json:"label"`
	Default bool   `json:"default"` // sent when a notifier's Events list is empty
}

var eventInfos = []EventInfo{
	{EventBackupStarted, "Backup started", false},
	{EventBackupFailed, "Backup failed", true},
	{EventBackupSucceeded, "Backup succeeded", false},
	{EventVerifyFailed, "Verification failed", true},
	{EventDrillFailed, "Restore drill failed", true},
	{EventDatabaseDown, "Database down", true},
	{EventDatabaseUp, "Database up again", true},
	{EventStorageNearlyFull, "Storage nearly full", true},
}

// Events lists every event kind a notifier can subscribe to, in display
// order.
func Events() []EventInfo { return slices.Clone(eventInfos) }

// DefaultEvents are the kinds a notifier with an empty Events list receives:
// every failure, down and up, and storage nearly full. Successes only go to
// notifiers that list them.
func DefaultEvents() []string {
	var out []string
	for _, e := range eventInfos {
		if e.Default {
			out = append(out, e.Kind)
		}
	}
	return out
}

func knownEvent(kind string) bool {
	return slices.ContainsFunc(eventInfos, func(e EventInfo) bool { return e.Kind == kind })
}

// wants reports whether a notifier with this Events list receives kind;
// defaults is what an empty list means (DefaultEvents for most kinds).
func wants(events, defaults []string, kind string) bool {
	if kind == EventTest {
		return true
	}
	if len(events) == 0 {
		return slices.Contains(defaults, kind)
	}
	return slices.Contains(events, kind)
}

// label is a kind's display label ("Backup failed"), or the kind itself.
func label(kind string) string {
	if kind == EventTest {
		return "Test notification"
	}
	for _, e := range eventInfos {
		if e.Kind == kind {
			return e.Label
		}
	}
	return kind
}

// severity groups kinds for colours and urgency.
type severity int

const (
	sevInfo    severity = iota // test, started
	sevOK                      // success, up again
	sevWarning                 // storage nearly full
	sevProblem                 // failures, down
)

func (e Event) severity() severity {
	switch e.Kind {
	case EventBackupSucceeded, EventDatabaseUp:
		return sevOK
	case EventBackupStarted:
		return sevInfo
	case EventStorageNearlyFull:
		return sevWarning
	case EventTest:
		return sevInfo
	default:
		return sevProblem
	}
}

// TestEvent is the event Test sends.
func TestEvent(notifierName string) Event {
	return Event{
		Kind:  EventTest,
		Title: "PgSafe test notification",
		Body:  "This is a test from PgSafe. If you can read it, the notifier \"" + notifierName + "\" works.",
		At:    time.Now(),
	}
}

// normalized returns a copy of e ready to send: a title when none was given,
// the time set, and anything that looks like a password scrubbed.
func (e Event) normalized() Event {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.Title == "" {
		e.Title = label(e.Kind)
		if e.Database != "" {
			e.Title += ": " + e.Database
		}
	}
	e.Title = scrub(e.Title)
	e.Body = scrub(e.Body)
	e.Database = scrub(e.Database)
	if e.Fields != nil {
		f := maps.Clone(e.Fields)
		for k, v := range f {
			if secretFieldName.MatchString(k) {
				f[k] = redacted
			} else {
				f[k] = scrub(v)
			}
		}
		e.Fields = f
	}
	return e
}

var (
	// scheme://user:PASSWORD@host
	urlPassword = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]*@`)
	// password=… in a libpq connection string or a command line.
	kvPassword = regexp.MustCompile(`(?i)\b(password|passwd|pwd|sslpassword|passphrase|secret|token|api_?key|secret_?key)(\s*=\s*)('[^']*'|"[^"]*"|[^\s'"]+)`)
	// Fields whose value is a secret by name.
	secretFieldName = regexp.MustCompile(`(?i)(password|passwd|passphrase|secret|token|private_?key)`)
)

const redacted = "[redacted]"

// scrub hides what looks like a password in s.
func scrub(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}"+redacted+"@")
	return kvPassword.ReplaceAllString(s, "${1}${2}"+redacted)
}
