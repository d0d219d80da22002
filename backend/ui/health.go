package ui

import (
	"context"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// HealthView is one connectivity check.
type HealthView struct {
	At        time.Time `json:"at"`
	OK        bool      `json:"ok"`
	LatencyMS int64     `json:"latencyMs"`
	Error     string    `json:"error,omitempty"`
}

// HealthPolicy is the named database's connectivity check (interval 0: off).
func (s *DatabaseService) HealthPolicy(db string) (engine.HealthPolicy, error) {
	e, err := s.core.engine()
	if err != nil {
		return engine.HealthPolicy{}, err
	}
	return e.HealthPolicy(context.Background(), db)
}

// SetHealthPolicy sets the named database's connectivity check.
func (s *DatabaseService) SetHealthPolicy(db string, p engine.HealthPolicy) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.SetHealthPolicy(context.Background(), db, p)
}

// CheckHealth tests the named database's connection now and records it.
func (s *DatabaseService) CheckHealth(db string) (HealthView, error) {
	e, err := s.core.engine()
	if err != nil {
		return HealthView{}, err
	}
	h, err := e.CheckHealth(context.Background(), db)
	if err != nil {
		return HealthView{}, err
	}
	return HealthView{At: h.At, OK: h.OK, LatencyMS: h.Latency.Milliseconds(), Error: h.Error}, nil
}

// HealthHistory is the named database's checks, newest first.
func (s *DatabaseService) HealthHistory(db string, limit int) ([]HealthView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	hs, err := e.HealthHistory(context.Background(), db, limit)
	if err != nil {
		return nil, err
	}
	out := make([]HealthView, len(hs))
	for i, h := range hs {
		out[i] = HealthView{At: h.At, OK: h.OK, LatencyMS: h.Latency.Milliseconds(), Error: h.Error}
	}
	return out, nil
}
