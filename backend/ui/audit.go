package ui

import (
	"context"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
)

// AuditService is the Activity screen: the audit log and its verification.
type AuditService struct{ core *Core }

// NewAuditService returns the service bound as AuditService.
func NewAuditService(c *Core) *AuditService { return &AuditService{core: c} }

// AuditFilter narrows the list. Days > 0 keeps the last N days.
type AuditFilter struct {
	ActionPrefix string `json:"actionPrefix"`
	Outcome      string `json:"outcome"`
	Days         int    `json:"days"`
	Limit        int    `json:"limit"`
	Offset       int    `json:"offset"`
}

// ActivityEntry is one audit log entry as the Activity screen lists it.
type ActivityEntry struct {
	Seq     int64             `json:"seq"`
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Outcome string            `json:"outcome"`
	Target  string            `json:"target,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
	Message string            `json:"message,omitempty"`
}

// List returns entries, newest first.
func (s *AuditService) List(f AuditFilter) ([]ActivityEntry, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	af := audit.Filter{ActionPrefix: f.ActionPrefix, Outcome: f.Outcome, Limit: f.Limit, Offset: f.Offset}
	if f.Days > 0 {
		af.From = time.Now().AddDate(0, 0, -f.Days)
	}
	if af.Limit == 0 {
		af.Limit = 500
	}
	recs, err := e.Audit().List(context.Background(), af)
	out := make([]ActivityEntry, len(recs))
	for i, r := range recs {
		out[i] = ActivityEntry{Seq: r.Seq, At: r.At, Actor: r.Actor, Action: r.Action, Outcome: r.Outcome, Target: r.Target, Fields: r.Fields, Message: r.Message}
	}
	return out, err
}

// Verify checks the whole chain: "intact up to N" or the first broken entry.
func (s *AuditService) Verify() (audit.Report, error) {
	e, err := s.core.engine()
	if err != nil {
		return audit.Report{}, err
	}
	return e.Audit().Verify(context.Background())
}
