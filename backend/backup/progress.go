package backup

import (
	"errors"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is a backup's progress, as the UI and the CLI show it.
type Progress struct {
	Phase Phase  `json:"phase"`
	Table string `json:"table,omitempty"` // the table pg_dump is dumping, when known
	// RawBytes is what pg_dump has written so far; EstimatedBytes is the
	// size of the database's tables on the server (0: unknown), which the
	// dump comes close to, so RawBytes/EstimatedBytes is the fraction done.
	RawBytes       int64 `json:"rawBytes"`
	EstimatedBytes int64 `json:"estimatedBytes"`
	// StoredBytes is the encrypted stream produced so far; Storages says how
	// much of it each storage has taken (and why one dropped out).
	StoredBytes int64             `json:"storedBytes"`
	Storages    []StorageProgress `json:"storages,omitempty"`
	// BytesPerSecond is pg_dump's recent pace; ETA the time left at that
	// pace (0: unknown).
	BytesPerSecond float64       `json:"bytesPerSecond"`
	Elapsed        time.Duration `json:"elapsed"`
	ETA            time.Duration `json:"eta"`
	// Waiting says what the backup waits for, when it waits on a lock
	// another session holds ("" otherwise; see lockWatch).
	Waiting string `json:"waiting,omitempty"`
}

// StorageProgress is one storage's share of the stream.
type StorageProgress struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
	Error string `json:"error,omitempty"` // set once the storage dropped out
}

// progressor throttles progress reports: at most one per interval, plus one
// at every phase change.
type progressor struct {
	fn         func(Progress)
	every      time.Duration
	start      time.Time
	mu         sync.Mutex
	cur        Progress
	fan        *fanout
	last       time.Time
	lastRaw    int64
	rate       float64 // smoothed bytes per second
	rawN, outN atomic.Int64
}

func newProgressor(fn func(Progress), every time.Duration) *progressor {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	return &progressor{fn: fn, every: every, start: time.Now()}
}

func (p *progressor) phase(ph Phase) {
	p.mu.Lock()
	p.cur.Phase = ph
	p.mu.Unlock()
	p.report(true)
}

func (p *progressor) table(t string) {
	p.mu.Lock()
	p.cur.Table = t
	p.mu.Unlock()
	p.report(false)
}

func (p *progressor) waiting(msg string) {
	p.mu.Lock()
	p.cur.Waiting = msg
	p.mu.Unlock()
	p.report(true)
}

func (p *progressor) estimate(n int64) {
	p.mu.Lock()
	p.cur.EstimatedBytes = n
	p.mu.Unlock()
}

func (p *progressor) streaming(f *fanout) {
	p.mu.Lock()
	p.fan = f
	p.mu.Unlock()
}

func (p *progressor) raw(n int64)    { p.rawN.Add(n); p.report(false) }
func (p *progressor) stored(n int64) { p.outN.Add(n); p.report(false) }

// rawBytes and storedBytes are for the stall watch.
func (p *progressor) rawBytes() int64    { return p.rawN.Load() }
func (p *progressor) storedBytes() int64 { return p.outN.Load() }

func (p *progressor) report(force bool) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	now := time.Now()
	if !force && now.Sub(p.last) < p.every {
		p.mu.Unlock()
		return
	}
	raw := p.rawN.Load()
	if dt := now.Sub(p.last).Seconds(); !p.last.IsZero() && dt > 0 {
		inst := float64(raw-p.lastRaw) / dt
		if p.rate == 0 {
			p.rate = inst
		} else {
			p.rate = 0.8*p.rate + 0.2*inst
		}
	}
	p.last, p.lastRaw = now, raw
	cur := p.cur
	cur.RawBytes, cur.StoredBytes = raw, p.outN.Load()
	cur.BytesPerSecond, cur.Elapsed = p.rate, now.Sub(p.start)
	if cur.Phase == PhaseDumping && p.rate > 0 && cur.EstimatedBytes > raw {
		cur.ETA = time.Duration(float64(cur.EstimatedBytes-raw) / p.rate * float64(time.Second))
	}
	if p.fan != nil {
		cur.Storages = p.fan.progress()
	}
	p.mu.Unlock()
	p.fn(cur)
}

// countReader counts the bytes read through it.
type countReader struct {
	r      io.Reader
	n      int64
	onRead func(int64)
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 && c.onRead != nil {
		c.onRead(int64(n))
	}
	return n, err
}

// countWriter counts the bytes written to it.
type countWriter struct {
	n       int64
	onWrite func(int64)
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.onWrite != nil {
		c.onWrite(int64(len(p)))
	}
	return len(p), nil
}

// isNotFound: deleting an object that is not there is not a failure.
func isNotFound(err error) bool { return errors.Is(err, fs.ErrNotExist) }
