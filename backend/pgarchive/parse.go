package pgarchive

import (
	"bytes"
	"fmt"
	"math"
)

// Limits on what is kept of the table of contents: identifiers are at most
// 63 bytes in PostgreSQL; anything longer is not a table name pg_dump wrote.
const (
	maxName = 1024
	maxDesc = 64
	// minMinor and maxMinor are the archive versions 1.x read (see doc.go).
	minMinor = 10
	maxMinor = 16
)

const (
	blockData  = 1
	blockBlobs = 3
)

// parser reads one archive, pulling bytes from the Writes (see Counter).
type parser struct {
	buf   []byte // unread bytes of the current Write
	eof   bool
	yield func(struct{}) bool

	head     Header
	headRead bool
	tables   map[int]*Table // TABLE DATA entries by dumpId
	order    []int
	copyText map[int]bool // the entry's data is COPY text
}

// fill waits for bytes; false at the end of the stream.
func (p *parser) fill() bool {
	for len(p.buf) == 0 {
		if p.eof || !p.yield(struct{}{}) {
			p.eof = true
			return false
		}
	}
	return true
}

func (p *parser) byte() (byte, error) {
	if !p.fill() {
		return 0, ErrTruncated
	}
	b := p.buf[0]
	p.buf = p.buf[1:]
	return b, nil
}

// int reads pg_dump's int: a sign byte and intSize bytes, least significant
// first. Values beyond 32 bits (pg_dump's int) are corrupt.
func (p *parser) int() (int64, error) {
	sign, err := p.byte()
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := 0; i < p.head.IntSize; i++ {
		b, err := p.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b) << (8 * i)
	}
	if v > math.MaxInt32 {
		return 0, fmt.Errorf("an integer of %d is out of range: not an archive pg_dump wrote", v)
	}
	if sign != 0 {
		return -int64(v), nil
	}
	return int64(v), nil
}

// skip drops n bytes.
func (p *parser) skip(n int64) error {
	for n > 0 {
		if !p.fill() {
			return ErrTruncated
		}
		k := min(n, int64(len(p.buf)))
		p.buf = p.buf[k:]
		n -= k
	}
	return nil
}

// str reads a str, keeping at most keep bytes of it; long is true when it
// held more. A NULL str reads as null.
func (p *parser) str(keep int) (s string, null, long bool, err error) {
	n, err := p.int()
	if err != nil {
		return "", false, false, err
	}
	if n < 0 {
		return "", true, false, nil
	}
	kept := make([]byte, 0, min(n, int64(keep)))
	for int64(len(kept)) < n && len(kept) < keep {
		if !p.fill() {
			return "", false, false, ErrTruncated
		}
		k := min(int(n)-len(kept), keep-len(kept), len(p.buf))
		kept = append(kept, p.buf[:k]...)
		p.buf = p.buf[k:]
	}
	if err := p.skip(n - int64(len(kept))); err != nil {
		return "", false, false, err
	}
	return string(kept), false, n > int64(keep), nil
}

func (p *parser) skipStr() error {
	_, _, _, err := p.str(0)
	return err
}

func (p *parser) run() error {
	if err := p.header(); err != nil {
		return err
	}
	if err := p.toc(); err != nil {
		return err
	}
	return p.data()
}

func (p *parser) header() error {
	var magic [5]byte
	for i := range magic {
		b, err := p.byte()
		if err != nil {
			return err
		}
		magic[i] = b
	}
	if string(magic[:]) != "PGDMP" {
		return fmt.Errorf("not a pg_dump custom-format archive (it starts %q)", magic[:])
	}
	var v [6]byte // major, minor, revision, intSize, offSize, format
	for i := range v {
		b, err := p.byte()
		if err != nil {
			return err
		}
		v[i] = b
	}
	h := &p.head
	h.Version = fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
	h.minor, h.IntSize, h.OffsetSize = int(v[1]), int(v[3]), int(v[4])
	if v[0] != 1 || h.minor < minMinor || h.minor > maxMinor {
		return fmt.Errorf("archive version %s is not one PgSafe reads (1.%d to 1.%d)", h.Version, minMinor, maxMinor)
	}
	if h.IntSize < 1 || h.IntSize > 8 || h.OffsetSize < 1 || h.OffsetSize > 8 {
		return fmt.Errorf("archive integer sizes %d and %d are out of range", h.IntSize, h.OffsetSize)
	}
	if v[5] != 1 {
		return fmt.Errorf("archive format %d is not the custom format (1)", v[5])
	}
	if h.minor >= 15 {
		b, err := p.byte()
		if err != nil {
			return err
		}
		h.compression = int(b)
	} else {
		n, err := p.int()
		if err != nil {
			return err
		}
		h.compression = int(n)
	}
	h.Compressed = h.compression != 0
	for range 7 { // creation time
		if _, err := p.int(); err != nil {
			return err
		}
	}
	var err error
	for _, s := range []*string{&h.Database, &h.ServerVer, &h.PgDumpVer} {
		if *s, _, _, err = p.str(maxName); err != nil {
			return err
		}
	}
	p.headRead = true
	return nil
}

func (p *parser) toc() error {
	count, err := p.int()
	if err != nil {
		return err
	}
	if count < 0 {
		return fmt.Errorf("the table of contents has %d entries", count)
	}
	p.copyText = map[int]bool{}
	for range count {
		if err := p.tocEntry(); err != nil {
			return err
		}
	}
	return nil
}

// tocEntry reads one entry and keeps it if it is a table's data.
func (p *parser) tocEntry() error {
	minor := p.head.minor
	id, err := p.int()
	if err != nil {
		return err
	}
	if id <= 0 {
		return fmt.Errorf("a table of contents entry has id %d", id)
	}
	if _, err := p.int(); err != nil { // hadDumper
		return err
	}
	for range 2 { // tableoid, oid
		if err := p.skipStr(); err != nil {
			return err
		}
	}
	tag, _, tagLong, err := p.str(maxName)
	if err != nil {
		return err
	}
	desc, _, _, err := p.str(maxDesc)
	if err != nil {
		return err
	}
	if minor >= 11 {
		if _, err := p.int(); err != nil { // section
			return err
		}
	}
	for range 2 { // defn, dropStmt
		if err := p.skipStr(); err != nil {
			return err
		}
	}
	copyStmt, _, _, err := p.str(5)
	if err != nil {
		return err
	}
	namespace, _, nsLong, err := p.str(maxName)
	if err != nil {
		return err
	}
	if err := p.skipStr(); err != nil { // tablespace (1.10+)
		return err
	}
	if minor >= 14 {
		if err := p.skipStr(); err != nil { // tableam
			return err
		}
	}
	if minor >= 16 {
		if _, err := p.int(); err != nil { // relkind
			return err
		}
	}
	for range 2 { // owner, withOids
		if err := p.skipStr(); err != nil {
			return err
		}
	}
	for { // dependencies, up to a NULL
		_, null, _, err := p.str(0)
		if err != nil {
			return err
		}
		if null {
			break
		}
	}
	if err := p.skip(int64(1 + p.head.OffsetSize)); err != nil { // data offset
		return err
	}
	if desc != "TABLE DATA" || tagLong || nsLong {
		return nil
	}
	if _, dup := p.tables[int(id)]; !dup {
		p.order = append(p.order, int(id))
	}
	p.tables[int(id)] = &Table{DumpID: int(id), Schema: namespace, Name: tag}
	p.copyText[int(id)] = copyStmt == "COPY "
	return nil
}

// data reads data blocks to the end of the stream.
func (p *parser) data() error {
	for {
		if !p.fill() {
			return nil // the end, between blocks
		}
		typ, _ := p.byte()
		id, err := p.int()
		if err != nil {
			return err
		}
		switch typ {
		case blockData:
			t := p.tables[int(id)]
			if t == nil || !p.copyText[int(id)] || p.head.Compressed {
				if err := p.chunks(nil); err != nil {
					return err
				}
				continue
			}
			var l lines
			if err := p.chunks(&l); err != nil {
				return err
			}
			t.Rows += l.rows()
			t.Counted = true
		case blockBlobs:
			for {
				oid, err := p.int()
				if err != nil {
					return err
				}
				if oid == 0 {
					break
				}
				if err := p.chunks(nil); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unknown data block type %d", typ)
		}
	}
}

// chunks reads length-prefixed chunks up to a zero length, feeding their
// bytes to l (nil: skipped).
func (p *parser) chunks(l *lines) error {
	for {
		n, err := p.int()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			return fmt.Errorf("a data chunk has length %d", n)
		}
		for n > 0 {
			if !p.fill() {
				return ErrTruncated
			}
			k := min(n, int64(len(p.buf)))
			if l != nil {
				l.add(p.buf[:k])
			}
			p.buf = p.buf[k:]
			n -= k
		}
	}
}

// lines counts the rows of one table's COPY text as it passes: lines up
// to an end-of-data line `\.` (pg_dump writes `\.` and two empty lines after
// the rows; COPY escapes a backslash in a value, so no row is `\.`).
type lines struct {
	newlines int64
	at       int  // bytes of the current line matched against `\.`; -1: it is a row
	done     bool // the end-of-data line was seen
}

func (l *lines) add(b []byte) {
	for len(b) > 0 && !l.done {
		for l.at >= 0 && l.at < 2 && len(b) > 0 {
			if b[0] != `\.`[l.at] {
				l.at = -1
				break
			}
			l.at++
			b = b[1:]
		}
		if len(b) == 0 {
			return
		}
		if l.at == 2 {
			if b[0] == '\n' {
				l.done = true
				return
			}
			l.at = -1
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.at = -1
			return
		}
		l.newlines++
		l.at = 0
		b = b[i+1:]
	}
}

// rows is the number of rows: lines before the end-of-data line, and a last
// line without a newline.
func (l *lines) rows() int64 {
	if !l.done && (l.at == -1 || l.at == 1) {
		return l.newlines + 1
	}
	return l.newlines
}
