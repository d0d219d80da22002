package backup

import (
	"errors"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"
)

// progressor throttles progress reports: at most one per interval, plus one
// at every phase change.
type progressor struct {
	fn         func(Progress)
	every      time.Duration
	mu         sync.Mutex
	cur        Progress
	last       time.Time
	rawN, outN atomic.Int64
}

func newProgressor(fn func(Progress), every time.Duration) *progressor {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	return &progressor{fn: fn, every: every}
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

func (p *progressor) raw(n int64)    { p.rawN.Add(n); p.report(false) }
func (p *progressor) stored(n int64) { p.outN.Add(n); p.report(false) }

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
	p.last = now
	cur := p.cur
	cur.RawBytes, cur.StoredBytes = p.rawN.Load(), p.outN.Load()
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
