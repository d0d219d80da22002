package pgarchive

import (
	"errors"
	"fmt"
	"iter"
)

// Table is one TABLE DATA entry of an archive and the rows its data holds.
type Table struct {
	DumpID int
	Schema string
	Name   string
	Rows   int64
	// Counted is false when the archive holds no data block for the entry,
	// or its rows cannot be counted (INSERT statements, compressed data).
	Counted bool
}

// Header is what an archive's header says.
type Header struct {
	Version     string // archive version, e.g. "1.14.0"
	Compressed  bool   // the table data is compressed (not counted)
	Database    string
	ServerVer   string // the dumped server's version
	PgDumpVer   string // pg_dump's version
	IntSize     int
	OffsetSize  int
	minor       int
	compression int
}

// ErrTruncated is the archive ending inside a structure.
var ErrTruncated = errors.New("the archive ends in the middle of an entry")

// Counter counts the rows of each table in a custom-format archive written to
// it. Write never fails and never holds on to its argument; Close ends the
// stream and says whether the whole archive was read. A Counter is not safe
// for concurrent use.
type Counter struct {
	p      parser
	next   func() (struct{}, bool)
	stop   func()
	ended  bool // the parser returned (error, or Close)
	closed bool
	err    error
}

// NewCounter returns a Counter waiting for an archive's first byte.
func NewCounter() *Counter {
	c := &Counter{}
	c.p.tables = map[int]*Table{}
	c.next, c.stop = iter.Pull(func(yield func(struct{}) bool) {
		c.p.yield = yield
		defer func() {
			if r := recover(); r != nil { // a bug here must not take the backup down
				c.err = fmt.Errorf("pgarchive: internal error: %v", r)
			}
		}()
		c.err = c.p.run()
	})
	return c
}

// Write parses p and returns len(p), nil.
func (c *Counter) Write(p []byte) (int, error) {
	if c.ended || c.closed || len(p) == 0 {
		return len(p), nil
	}
	c.p.buf = p
	if _, ok := c.next(); !ok {
		c.ended = true
	}
	c.p.buf = nil
	return len(p), nil
}

// Close marks the end of the archive. It returns why the archive could not
// be read to its end, if it could not: then Tables' counts are not to be
// trusted. It may be called more than once.
func (c *Counter) Close() error {
	if !c.closed {
		c.closed = true
		c.p.eof = true
		if !c.ended {
			c.next()
			c.ended = true
		}
		c.stop()
	}
	return c.err
}

// Header returns the archive's header, once it has been read (ok false
// before).
func (c *Counter) Header() (Header, bool) { return c.p.head, c.p.headRead }

// Tables returns the archive's TABLE DATA entries in the order of its table
// of contents, with the rows counted so far.
func (c *Counter) Tables() []Table {
	out := make([]Table, 0, len(c.p.order))
	for _, id := range c.p.order {
		out = append(out, *c.p.tables[id])
	}
	return out
}
