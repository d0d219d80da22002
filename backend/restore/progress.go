package restore

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// meter reports a restore's progress: the phase, how far the current read
// of the stored file has come (every read of it goes through meteredSource),
// and the item pg_restore is at. Reads come from the goroutine feeding
// pg_restore and items from its stderr, so reports are serialized; they are
// thinned to about four a second or every 2% of the file, except phase
// changes and a read's end, which always go out.
type meter struct {
	mu       sync.Mutex
	send     func(Progress)
	p        Progress
	lastAt   time.Time
	lastRead int64
}

const meterEvery = 250 * time.Millisecond

func newMeter(total int64, send func(Progress)) *meter {
	return &meter{send: send, p: Progress{Total: total}}
}

// setPhase starts a phase and reports it.
func (m *meter) setPhase(phase string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p.Phase, m.p.Item = phase, ""
	m.emit()
}

// setItem records the item pg_restore started.
func (m *meter) setItem(item string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p.Item = item
	if time.Since(m.lastAt) >= meterEvery {
		m.emit()
	}
}

// startRead begins a new read of the stored file.
func (m *meter) startRead() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p.ReadBytes = 0
}

// add counts n bytes read; end is true when the read reached its end.
func (m *meter) add(n int, end bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p.ReadBytes += int64(n)
	step := m.p.Total / 50
	if end || m.p.ReadBytes == m.p.Total || m.p.ReadBytes-m.lastRead >= max(step, 1) || time.Since(m.lastAt) >= meterEvery {
		m.emit()
	}
}

func (m *meter) emit() {
	m.lastAt, m.lastRead = time.Now(), m.p.ReadBytes
	if m.send != nil {
		m.send(m.p)
	}
}

// meteredSource counts every byte read from src's objects on m.
type meteredSource struct {
	src Source
	m   *meter
}

func (s meteredSource) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	body, err := s.src.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	s.m.startRead()
	return struct {
		io.Reader
		io.Closer
	}{readerFunc(func(p []byte) (int, error) {
		n, err := body.Read(p)
		if n > 0 || errors.Is(err, io.EOF) {
			s.m.add(n, errors.Is(err, io.EOF))
		}
		return n, err
	}), body}, nil
}
