package keys

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
)

// The text form of a kit (docs/KEYS.md, "Recovery kit"): the 80 kit bytes in
// Crockford base32, 8 numbered lines of 4 groups of 4 characters, each line
// followed by a 4-character checksum of its number and characters. It is both
// the kit file's content and what the user prints and may type back.
const (
	kitMagic      = "PGSAFE-KIT-1"
	kitGroup      = 4  // characters per group
	kitLineChars  = 16 // data characters per line
	kitCheckChars = 4  // checksum characters per line
	kitTextChars  = (kitSize*8 + 4) / 5
	kitLines      = (kitTextChars + kitLineChars - 1) / kitLineChars
)

// crockford is Crockford's base32 alphabet: no I, L, O, U, so that a kit typed
// back from paper is not ambiguous; on input I and L read as 1, O as 0.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockfordValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range []byte(crockford) {
		t[c] = int8(i)
		t[c|0x20] = int8(i) // lowercase
	}
	for _, c := range "oO" {
		t[c] = 0
	}
	for _, c := range "iIlL" {
		t[c] = 1
	}
	return t
}()

// Text returns the kit's text form: a header, comments, and the numbered lines.
func (k *Kit) Text() []byte {
	bin, _ := k.MarshalBinary()
	enc := crockfordEncode(bin)
	var b bytes.Buffer
	b.WriteString(kitMagic + "\n")
	fmt.Fprintf(&b, "# PgSafe recovery kit of master key %s (%s).\n", k.KeyID, k.Params)
	b.WriteString("# With its passphrase it opens every backup made with this key. Keep both safe, apart.\n")
	b.WriteString("# Restore: in PgSafe, Settings > Import recovery kit; or pgsafe key import FILE, where FILE\n")
	b.WriteString("# is this file or the lines below typed back.\n")
	b.WriteString("# The last group of each line is a checksum that catches typing mistakes.\n")
	for n := 1; len(enc) > 0; n++ {
		line := enc[:min(kitLineChars, len(enc))]
		enc = enc[len(line):]
		fmt.Fprintf(&b, "%d:", n)
		for g := 0; g < len(line); g += kitGroup {
			b.WriteString(" " + line[g:min(g+kitGroup, len(line))])
		}
		b.WriteString("  " + lineCheck(n, line) + "\n")
	}
	return b.Bytes()
}

// lineCheck is the checksum of data line n: the first 20 bits of
// SHA-256("PGSAFE-KIT-1 line" ‖ u8(n) ‖ the line's characters), in base32.
func lineCheck(n int, chars string) string {
	h := sha256.Sum256(append(append([]byte(kitMagic+" line"), byte(n)), chars...))
	return crockfordEncode(h[:3])[:kitCheckChars]
}

func crockfordEncode(b []byte) string {
	var out strings.Builder
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out.WriteByte(crockford[acc>>bits&31])
		}
	}
	if bits > 0 {
		out.WriteByte(crockford[acc<<(5-bits)&31])
	}
	return out.String()
}

// crockfordDecode decodes canonical characters; trailing bits must be zero.
func crockfordDecode(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)*5/8)
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		v := crockfordValue[s[i]]
		if v < 0 {
			return nil, false
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out, acc&(1<<bits-1) == 0
}

var lineNumber = regexp.MustCompile(`^(\d+)\s*[:.)]\s*(.*)$`)

// ParseKit reads a kit's text form: the kit file, or its lines typed back by a
// user (the PGSAFE-KIT-1 line, comments, blank lines, line numbers, spaces, dashes
// and letter case are optional; O reads as 0, I and L as 1). A typo is reported
// as a *KitTypoError naming the line and, when it can be pinned down, the character.
func ParseKit(text []byte) (*Kit, error) {
	if len(text) > 64<<10 {
		return nil, fmt.Errorf("%w: %d bytes is far too large for a recovery kit", ErrKitDamaged, len(text))
	}
	sc := bufio.NewScanner(bytes.NewReader(text))
	var data strings.Builder
	n := 0
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		upper := strings.ToUpper(s)
		switch {
		case s == "" || strings.HasPrefix(s, "#"):
			continue
		case upper == kitMagic:
			continue
		case strings.HasPrefix(upper, "PGSAFE-KIT-"):
			return nil, fmt.Errorf("%w: unsupported recovery kit version %q (written by a newer PgSafe?)", ErrKitDamaged, s)
		case strings.HasPrefix(upper, "PGSAFE-KEY-"):
			return nil, fmt.Errorf("%w: this is an unprotected key file, not a recovery kit", ErrKitDamaged)
		}
		n++
		if n > kitLines {
			return nil, fmt.Errorf("%w: more than %d kit lines (line %d is extra)", ErrKitDamaged, kitLines, n)
		}
		if m := lineNumber.FindStringSubmatch(s); m != nil {
			if m[1] != fmt.Sprint(n) {
				return nil, fmt.Errorf("%w: line numbered %s found where line %d was expected: a line is missing, repeated or out of order", ErrKitDamaged, m[1], n)
			}
			s = m[2]
		}
		chars, err := checkLine(n, s)
		if err != nil {
			return nil, err
		}
		data.WriteString(chars)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKitDamaged, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no kit lines found (not a PgSafe recovery kit)", ErrKitDamaged)
	}
	if n < kitLines {
		return nil, fmt.Errorf("%w: it has %d lines, a kit has %d: line %d is missing", ErrKitDamaged, n, kitLines, n+1)
	}
	bin, ok := crockfordDecode(data.String())
	if !ok {
		return nil, fmt.Errorf("%w: its characters do not decode", ErrKitDamaged)
	}
	return kitFromBinary(bin)
}

// wantChars is the number of data characters of line n.
func wantChars(n int) int { return min(kitLineChars, kitTextChars-(n-1)*kitLineChars) }

// checkLine verifies line n (without its number) and returns its canonical data
// characters.
func checkLine(n int, s string) (string, error) {
	body := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
			continue
		case crockfordValue[c] < 0:
			return "", &KitTypoError{Line: n, Char: len(body) + 1, Detail: "a character that a kit never contains"}
		}
		body = append(body, crockford[crockfordValue[c]])
	}
	want := wantChars(n) + kitCheckChars
	valid := func(b []byte) bool {
		return len(b) == want && lineCheck(n, string(b[:len(b)-kitCheckChars])) == string(b[len(b)-kitCheckChars:])
	}
	if valid(body) {
		return string(body[:len(body)-kitCheckChars]), nil
	}
	e := &KitTypoError{Line: n, Char: locateTypo(body, valid)}
	switch {
	case len(body) < want:
		e.Detail = fmt.Sprintf("%d characters, want %d (%d groups of 4 and the checksum): a character is missing", len(body), want, want/kitGroup-1)
	case len(body) > want:
		e.Detail = fmt.Sprintf("%d characters, want %d (%d groups of 4 and the checksum): a character is extra", len(body), want, want/kitGroup-1)
	default:
		e.Detail = "its checksum does not match"
	}
	return "", e
}

// locateTypo returns the 1-based position of the one character whose change,
// deletion, insertion or swap with the next makes the line valid, or 0 if no
// such edit, or edits at several positions, would.
func locateTypo(body []byte, valid func([]byte) bool) int {
	found := map[int]bool{}
	try := func(pos int, b []byte) {
		if valid(b) {
			found[pos] = true
		}
	}
	buf := make([]byte, 0, len(body)+1)
	for i := range body {
		for j := 0; j < len(crockford); j++ { // substitution
			if crockford[j] != body[i] {
				buf = append(append(append(buf[:0], body[:i]...), crockford[j]), body[i+1:]...)
				try(i+1, buf)
			}
		}
		buf = append(append(buf[:0], body[:i]...), body[i+1:]...) // extra character
		try(i+1, buf)
		if i+1 < len(body) { // swapped neighbours
			buf = append(buf[:0], body...)
			buf[i], buf[i+1] = buf[i+1], buf[i]
			try(i+1, buf)
		}
	}
	for i := 0; i <= len(body); i++ { // missing character
		for j := 0; j < len(crockford); j++ {
			buf = append(append(append(buf[:0], body[:i]...), crockford[j]), body[i:]...)
			try(i+1, buf)
		}
	}
	if len(found) != 1 {
		return 0
	}
	for pos := range found {
		return pos
	}
	return 0
}
