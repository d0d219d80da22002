package macos

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/jackmordaunt/icns"
	"howett.net/plist"

	"github.com/pgsafe/pgsafe/backend/internal/macapp"
)

const testVersion = "0.4.1-dev.12+gabcdef012345"

var epoch = time.Unix(1767225600, 0).UTC() // 2026-01-01

// writeBundle writes PgSafe.app under a new folder, with shell scripts
// standing in for the two executables (the real ones are built on a Mac).
func writeBundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	window := filepath.Join(dir, "window")
	agent := filepath.Join(dir, "agent")
	os.WriteFile(window, []byte("#!/bin/sh\necho window\n"), 0o755)
	os.WriteFile(agent, []byte("#!/bin/sh\necho agent\n"), 0o755)
	icon, err := os.ReadFile("../../../../build/appicon.png")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	app, err := Bundle{Version: testVersion, Window: window, Agent: agent, IconPNG: icon,
		Copyright: "Copyright © 2026 PgSafe contributors", Time: epoch}.Write(out)
	if err != nil {
		t.Fatal(err)
	}
	if app != filepath.Join(out, "PgSafe.app") {
		t.Errorf("bundle written as %s", app)
	}
	return app
}

// The tree is the layout macOS and package macapp expect, every file
// mode and time fixed.
func TestBundleTree(t *testing.T) {
	app := writeBundle(t)
	got := map[string]string{}
	err := filepath.WalkDir(app, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if !fi.ModTime().Equal(epoch) {
			t.Errorf("%s: modified %v, want SOURCE_DATE_EPOCH %v", p, fi.ModTime().UTC(), epoch)
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(app, p)
		got[filepath.ToSlash(rel)] = fi.Mode().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	helper := "Contents/Library/LoginItems/PgSafe Agent.app/Contents/"
	want := map[string]string{
		"Contents/Info.plist":                      "-rw-r--r--",
		"Contents/MacOS/pgsafe":                    "-rwxr-xr-x",
		"Contents/Resources/PgSafe.icns":           "-rw-r--r--",
		"Contents/Resources/io.pgsafe.agent.plist": "-rw-r--r--",
		helper + "Info.plist":                      "-rw-r--r--",
		helper + "MacOS/pgsafe-headless":           "-rwxr-xr-x",
		helper + "Resources/PgSafe.icns":           "-rw-r--r--",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PgSafe.app holds\n%v\nwant\n%v", got, want)
	}

	// The window finds its agent, the agent its window.
	window := filepath.Join(app, filepath.FromSlash(macapp.WindowPath))
	agent := filepath.Join(app, filepath.FromSlash(macapp.AgentPath))
	if a, ok := macapp.AgentFor(window); !ok || a != agent {
		t.Errorf("macapp.AgentFor(the bundle's window) = %q, %v", a, ok)
	}
	if w, ok := macapp.WindowFor(agent); !ok || w != window {
		t.Errorf("macapp.WindowFor(the bundle's agent) = %q, %v", w, ok)
	}
	if b, _ := os.ReadFile(agent); string(b) != "#!/bin/sh\necho agent\n" {
		t.Errorf("the agent's executable is not the one given: %q", b)
	}
}

// readPlist parses an XML property list (howett.net/plist) into a map,
// checking it is one (DOCTYPE, root dict).
func readPlist(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`)) {
		t.Errorf("%s: no plist DOCTYPE", path)
	}
	var m map[string]any
	format, err := plist.Unmarshal(b, &m)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if format != plist.XMLFormat {
		t.Errorf("%s: format %v, want XML", path, format)
	}
	return m
}

func TestInfoPlists(t *testing.T) {
	app := writeBundle(t)
	common := map[string]any{
		"CFBundleDevelopmentRegion":     "en",
		"CFBundleIconFile":              "PgSafe.icns",
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    "0.4.1",
		"CFBundleVersion":               "0.4.1",
		"PgSafeVersion":                 testVersion,
		"LSApplicationCategoryType":     "public.app-category.utilities",
		"LSMinimumSystemVersion":        "12.0",
		"NSHighResolutionCapable":       true,
		"NSHumanReadableCopyright":      "Copyright © 2026 PgSafe contributors",
	}
	for _, c := range []struct {
		contents string
		want     map[string]any
	}{
		{filepath.Join(app, "Contents"), map[string]any{
			"CFBundleName": "PgSafe", "CFBundleDisplayName": "PgSafe", "CFBundleExecutable": "pgsafe",
			"CFBundleIdentifier": "io.pgsafe.PgSafe"}},
		{filepath.Join(app, filepath.FromSlash(macapp.AgentDir), "Contents"), map[string]any{
			"CFBundleName": "PgSafe Agent", "CFBundleDisplayName": "PgSafe Agent", "CFBundleExecutable": "pgsafe-headless",
			"CFBundleIdentifier": "io.pgsafe.PgSafe.Agent", "LSUIElement": true}},
	} {
		for k, v := range common {
			c.want[k] = v
		}
		got := readPlist(t, filepath.Join(c.contents, "Info.plist"))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s/Info.plist:\n%v\nwant\n%v", c.contents, got, c.want)
		}
		// What it names is there.
		exe := filepath.Join(c.contents, "MacOS", got["CFBundleExecutable"].(string))
		if fi, err := os.Stat(exe); err != nil || fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("CFBundleExecutable %s: %v", exe, err)
		}
		if _, err := os.Stat(filepath.Join(c.contents, "Resources", got["CFBundleIconFile"].(string))); err != nil {
			t.Errorf("CFBundleIconFile: %v", err)
		}
	}
}

func TestVersions(t *testing.T) {
	for v, want := range map[string]string{"1.2.3": "1.2.3", "0.1.0-dev.264+gb0bf155214df": "0.1.0", "10.0.12+meta": "10.0.12"} {
		if got, err := shortVersion(v); err != nil || got != want {
			t.Errorf("shortVersion(%q) = %q, %v; want %q", v, got, err, want)
		}
	}
	for _, v := range []string{"", "v1.2.3", "1.2", "1.2.3.4", "1.2.3dev"} {
		if _, err := WindowInfo(v, ""); err == nil {
			t.Errorf("WindowInfo(%q) took a version macOS cannot read", v)
		}
	}
}

// The .icns holds the icon in the sizes it lists, each a PNG of that size,
// and decodes back (jackmordaunt/icns) to the 1024 px one.
func TestIcns(t *testing.T) {
	app := writeBundle(t)
	b, err := os.ReadFile(filepath.Join(app, "Contents", "Resources", "PgSafe.icns"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:4]) != "icns" || int(binary.BigEndian.Uint32(b[4:8])) != len(b) {
		t.Fatalf("not an icns file of its length: header %q, length %d of %d", b[:4], binary.BigEndian.Uint32(b[4:8]), len(b))
	}
	got := map[string]int{}
	for off := 8; off < len(b); {
		typ, n := string(b[off:off+4]), int(binary.BigEndian.Uint32(b[off+4:off+8]))
		if n < 8 || off+n > len(b) {
			t.Fatalf("entry %q at %d has length %d", typ, off, n)
		}
		img, err := png.Decode(bytes.NewReader(b[off+8 : off+n]))
		if err != nil {
			t.Fatalf("entry %q: %v", typ, err)
		}
		if s := img.Bounds().Size(); s.X != s.Y {
			t.Errorf("entry %q is %dx%d", typ, s.X, s.Y)
		}
		got[typ] = img.Bounds().Dx()
		off += n
	}
	// 512@2x, 256@2x, 128@2x, 32@2x, 16@2x (Apple's icns types).
	want := map[string]int{"ic10": 1024, "ic14": 512, "ic13": 256, "ic12": 64, "ic11": 32}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("icns entries %v, want %v", got, want)
	}
	img, err := icns.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 1024 {
		t.Errorf("icns.Decode: %v, %v", img, err)
	}
	if _, err := Icns([]byte("not a png")); err == nil {
		t.Error("Icns took something that is not a PNG")
	}
}

// The LaunchAgent template is package autostart's plist for the agent
// helper in /Applications.
func TestLaunchAgentTemplate(t *testing.T) {
	app := writeBundle(t)
	got := readPlist(t, filepath.Join(app, "Contents", "Resources", "io.pgsafe.agent.plist"))
	args, _ := got["ProgramArguments"].([]any)
	want := []any{"/Applications/PgSafe.app/Contents/Library/LoginItems/PgSafe Agent.app/Contents/MacOS/pgsafe-headless", "agent", "--login"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("ProgramArguments = %v, want %v", args, want)
	}
	if got["Label"] != "io.pgsafe.agent" || got["RunAtLoad"] != true {
		t.Errorf("Label %v, RunAtLoad %v", got["Label"], got["RunAtLoad"])
	}
	if ids, _ := got["AssociatedBundleIdentifiers"].([]any); !reflect.DeepEqual(ids, []any{"io.pgsafe.PgSafe"}) {
		t.Errorf("AssociatedBundleIdentifiers = %v", got["AssociatedBundleIdentifiers"])
	}
}

// Two bundles from the same inputs are the same, byte for byte.
func TestBundleReproducible(t *testing.T) {
	a, b := writeBundle(t), writeBundle(t)
	sum := func(root string) []string {
		var out []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(root, p)
				out = append(out, fmt.Sprintf("%x %s", sha256.Sum256(data), rel))
			}
			return nil
		})
		sort.Strings(out)
		return out
	}
	if !reflect.DeepEqual(sum(a), sum(b)) {
		t.Error("two bundles from the same inputs differ")
	}
}
