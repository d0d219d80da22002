package ui

import (
	"context"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/engine"
)

// AuditService is the Activity screen: the audit log and its verification.
type AuditService struct{ core *Core }

// NewAuditService returns the service bound as AuditService.
func NewAuditService(c *Core) *AuditService { return &AuditService{core: c} }

// AuditFilter narrows the list. Days > 0 keeps the last N days; Database
// keeps the entries about that database; Kind one of activity.Kinds;
// Outcome "ok", or "failed" for every entry that did not go well (failed,
// denied, partial).
type AuditFilter struct {
	ActionPrefix string `json:"actionPrefix"`
	Outcome      string `json:"outcome"`
	Database     string `json:"database"`
	Kind         string `json:"kind"`
	Days         int    `json:"days"`
	Limit        int    `json:"limit"`
	Offset       int    `json:"offset"`
}

// ActivityEntry is one audit log entry as the Activity screen lists it:
// the sentence, and the raw entry one click away.
type ActivityEntry struct {
	Seq     int64             `json:"seq"`
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Outcome string            `json:"outcome"`
	Target  string            `json:"target,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
	Message string            `json:"message,omitempty"`

	// Sentence is the entry in words (activity.Describe); it may hold
	// "{when}", the time SentenceTime (RFC 3339) written in the user's
	// locale.
	Sentence     string `json:"sentence"`
	SentenceTime string `json:"sentenceTime,omitempty"`
	Kind         string `json:"kind"`
	Database     string `json:"database,omitempty"`
}

// List returns entries, newest first.
func (s *AuditService) List(f AuditFilter) ([]ActivityEntry, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	entries, err := e.Activity(context.Background(), engine.ActivityFilter(f))
	out := make([]ActivityEntry, len(entries))
	for i, a := range entries {
		out[i] = ActivityEntry(a)
	}
	return out, err
}

// Verify checks the whole chain: "intact up to N" or the first broken entry.
func (s *AuditService) Verify() (audit.Report, error) {
	e, err := s.core.engine()
	if err != nil {
		return audit.Report{}, err
	}
	return e.VerifyAudit(context.Background())
}
