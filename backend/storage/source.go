package storage

import (
	"context"
	"io"
)

// Source is the stream a backend's Put stores. It stops when ctx is done,
// and Err keeps the stream's own failure (the backup pipeline's, not the
// storage's), so a backend can tell the two apart in its error.
type Source struct {
	ctx context.Context
	r   io.Reader
	Err error
}

// NewSource reads r until ctx is done.
func NewSource(ctx context.Context, r io.Reader) *Source { return &Source{ctx: ctx, r: r} }

func (s *Source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.Err = err
	}
	return n, err
}

// SetContext makes reading stop when ctx is done instead (a backend narrows
// it so that its own upload error stops the reading too).
func (s *Source) SetContext(ctx context.Context) { s.ctx = ctx }
