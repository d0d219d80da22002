package keys

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const goodPass = "correct horse battery staple"

func sealTestKit(t *testing.T) (*Kit, *MasterKey) {
	t.Helper()
	mk, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	kit, err := SealKit(mk, pass(goodPass))
	if err != nil {
		t.Fatal(err)
	}
	return kit, mk
}

// TestProductionKDF pins the parameters new kits are written with to what
// docs/KEYS.md promises, and checks one production-strength kit end to end.
func TestProductionKDF(t *testing.T) {
	want := KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}
	if ProductionKDF != want {
		t.Fatalf("ProductionKDF = %+v, docs/KEYS.md says %+v", ProductionKDF, want)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "KEYS.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"time = 3", "memory = 65536 KiB (64 MiB)", "threads = 4", ProductionKDF.String()} {
		if !strings.Contains(string(doc), s) {
			t.Errorf("docs/KEYS.md does not state %q", s)
		}
	}
	old := kdfParams
	kdfParams = ProductionKDF
	defer func() { kdfParams = old }()
	kit, mk := sealTestKit(t)
	parsed, err := ParseKit(kit.Text())
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Params != ProductionKDF {
		t.Fatalf("kit params %v", parsed.Params)
	}
	got, err := parsed.Open(pass(goodPass))
	if err != nil || !got.Equal(mk) {
		t.Fatalf("production kit: %v", err)
	}
}

func TestKitRoundTrip(t *testing.T) {
	kit, mk := sealTestKit(t)
	bin, _ := kit.MarshalBinary()
	if len(bin) != kitSize || bin[0] != kitVersion1 {
		t.Fatalf("kit is %d bytes, version %d", len(bin), bin[0])
	}
	if bytes.Contains(bin, mk.Bytes()[:8]) {
		t.Fatal("master key visible in the kit")
	}
	text := kit.Text()
	if bytes.Contains(text, []byte(strings.ToUpper(string(hexOf(mk))[:8]))) || bytes.Contains(text, hexOf(mk)[:16]) {
		t.Fatal("master key visible in the kit text")
	}
	if !bytes.HasPrefix(text, []byte("PGSAFE-KIT-1\n")) || !bytes.Contains(text, []byte(mk.ID().String())) {
		t.Fatalf("kit text:\n%s", text)
	}
	parsed, err := ParseKit(text)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.KeyID != mk.ID() {
		t.Fatalf("kit key ID %s, want %s (readable without the passphrase)", parsed.KeyID, mk.ID())
	}
	got, err := parsed.Open(pass(goodPass))
	if err != nil || !got.Equal(mk) {
		t.Fatalf("Open: %v", err)
	}
	// Two kits of one key differ (fresh salt), both open.
	kit2, _ := SealKit(mk, pass(goodPass))
	if bytes.Equal(kit.Text(), kit2.Text()) {
		t.Fatal("two kits of the same key are identical: salt not fresh")
	}
}

func TestKitWrongPassphrase(t *testing.T) {
	kit, mk := sealTestKit(t)
	_, err := kit.Open(pass(goodPass + "!"))
	if !errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), mk.ID().String()) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := SealKit(mk, pass("short")); !errors.Is(err, ErrWeakPassphrase) {
		t.Fatalf("short passphrase: %v", err)
	}
	if _, err := SealKit(mk, pass("")); !errors.Is(err, ErrWeakPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
}

// TestKitTextTyped: the printed form typed back by a person, with the usual
// liberties, still reads.
func TestKitTextTyped(t *testing.T) {
	kit, mk := sealTestKit(t)
	lines := dataLines(kit.Text())
	var typed []string
	for i, l := range lines {
		l = strings.ToLower(l)
		switch i % 3 {
		case 0:
			l = l[strings.Index(l, ":")+1:] // without the line number
		case 1:
			l = strings.ReplaceAll(l, " ", "") // without spaces
		case 2:
			l = strings.ReplaceAll(l, " ", "-")
		}
		// Confusable letters read as digits.
		l = strings.NewReplacer("0", "o", "1", "l").Replace(l)
		typed = append(typed, "  "+l+"  ")
	}
	got, err := ParseKit([]byte(strings.Join(typed, "\r\n")))
	if err != nil {
		t.Fatalf("typed kit: %v\n%s", err, strings.Join(typed, "\n"))
	}
	if k, err := got.Open(pass(goodPass)); err != nil || !k.Equal(mk) {
		t.Fatalf("typed kit opens: %v", err)
	}
}

// TestKitTypos: a mistake in the typed form is caught by the line checksums
// before the passphrase is tried, and located.
func TestKitTypos(t *testing.T) {
	// A canonical line 3 without its number and spaces: 16 data + 4 check chars.
	// A character next to an equal one cannot be located (either of the two
	// may be the typo), so use a kit whose line 3 has none around the cases'
	// positions and no 'Z' where one is inserted.
	var lines []string
	var l3 string
	for {
		kit, _ := sealTestKit(t)
		lines = dataLines(kit.Text())
		l3 = strings.ReplaceAll(lines[2][strings.Index(lines[2], ":")+1:], " ", "")
		if l3[3] != 'Z' && l3[4] != 'Z' && l3[8] != l3[9] && l3[9] != l3[10] {
			break
		}
	}
	other := func(c byte) string {
		if c == 'A' {
			return "B"
		}
		return "A"
	}
	cases := []struct {
		name     string
		line3    string
		wantChar int // 0: located to the line only
	}{
		{"substitution", l3[:6] + other(l3[6]) + l3[7:], 7},
		{"missing character", l3[:9] + l3[10:], 10},
		{"extra character", l3[:4] + "Z" + l3[4:], 5},
		{"invalid character", l3[:11] + "U" + l3[12:], 12},
		{"typo in the checksum", l3[:18] + other(l3[18]) + l3[19:], 19},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mod := append([]string(nil), lines...)
			mod[2] = "3: " + c.line3
			_, err := ParseKit([]byte(strings.Join(mod, "\n")))
			var te *KitTypoError
			if !errors.As(err, &te) || !errors.Is(err, ErrKitDamaged) {
				t.Fatalf("err = %v, want a KitTypoError", err)
			}
			if te.Line != 3 {
				t.Errorf("typo located on line %d, want 3: %v", te.Line, err)
			}
			if c.wantChar != 0 && te.Char != c.wantChar {
				t.Errorf("typo located at character %d, want %d: %v", te.Char, c.wantChar, err)
			}
			if !strings.Contains(err.Error(), "line 3") {
				t.Errorf("message %q does not name the line", err)
			}
		})
	}
	// Swapped lines, a missing line, an extra line.
	swapped := append([]string(nil), lines...)
	swapped[3], swapped[4] = swapped[4], swapped[3]
	if _, err := ParseKit([]byte(strings.Join(swapped, "\n"))); err == nil || !strings.Contains(err.Error(), "line numbered 5") {
		t.Errorf("swapped lines: %v", err)
	}
	unnumbered := make([]string, len(swapped))
	for i, l := range swapped {
		unnumbered[i] = l[strings.Index(l, ":")+1:]
	}
	var te *KitTypoError
	if _, err := ParseKit([]byte(strings.Join(unnumbered, "\n"))); !errors.As(err, &te) || te.Line != 4 {
		t.Errorf("swapped unnumbered lines: %v, want a typo on line 4", err)
	}
	if _, err := ParseKit([]byte(strings.Join(lines[:7], "\n"))); err == nil || !strings.Contains(err.Error(), "line 8 is missing") {
		t.Errorf("missing line: %v", err)
	}
	if _, err := ParseKit([]byte(strings.Join(append(lines, lines[0]), "\n"))); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("extra line: %v", err)
	}
}

func TestKitRejectsOtherInput(t *testing.T) {
	kit, mk := sealTestKit(t)
	for name, in := range map[string]string{
		"empty":          "",
		"comments only":  "# nothing\n\n",
		"key file":       string(MarshalKeyFile(mk)),
		"newer version":  strings.Replace(string(kit.Text()), "PGSAFE-KIT-1", "PGSAFE-KIT-2", 1),
		"random text":    "hello world\n",
		"huge":           strings.Repeat("#", 70<<10),
		"binary garbage": "\x00\x01\x02",
	} {
		if _, err := ParseKit([]byte(in)); !errors.Is(err, ErrKitDamaged) {
			t.Errorf("%s: err = %v, want ErrKitDamaged", name, err)
		}
	}
}

// TestKitHostileParams: a kit asking for absurd argon2 costs is refused before
// any work is done.
func TestKitHostileParams(t *testing.T) {
	kit, _ := sealTestKit(t)
	for _, p := range []KDFParams{
		{Time: 0, MemoryKiB: 64, Threads: 1},
		{Time: 200, MemoryKiB: 64, Threads: 1},
		{Time: 1, MemoryKiB: 4 << 20, Threads: 1},
		{Time: 1, MemoryKiB: 64, Threads: 0},
	} {
		k := *kit
		k.Params = p
		if _, err := ParseKit(k.Text()); !errors.Is(err, ErrKitDamaged) {
			t.Errorf("params %v: %v", p, err)
		}
	}
}

func TestCrockfordRoundTrip(t *testing.T) {
	for n := 0; n < 40; n++ {
		b := bytes.Repeat([]byte{byte(n * 37)}, n)
		enc := crockfordEncode(b)
		got, ok := crockfordDecode(enc)
		if !ok || !bytes.Equal(got, b) {
			t.Fatalf("%d bytes: %q → %x", n, enc, got)
		}
		if regexp.MustCompile(`[ILOU]`).MatchString(enc) {
			t.Fatalf("ambiguous letter in %q", enc)
		}
	}
}

// dataLines returns the numbered lines of a kit's text.
func dataLines(text []byte) []string {
	var out []string
	for _, l := range strings.Split(string(text), "\n") {
		if regexp.MustCompile(`^\d+:`).MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

func hexOf(mk *MasterKey) []byte {
	const digits = "0123456789abcdef"
	var out []byte
	for _, c := range mk.Bytes() {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}
