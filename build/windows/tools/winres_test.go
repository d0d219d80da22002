package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tc-hib/winres"
)

func TestFileVersion(t *testing.T) {
	for v, want := range map[string][4]uint16{
		"1.2.3":                           {1, 2, 3, 0},
		"0.1.0-dev.264+gb0bf155214df":     {0, 1, 0, 264},
		"0.1.0-dev.7+gb0bf155214df.dirty": {0, 1, 0, 7},
		"2.0.0-rc.1":                      {2, 0, 0, 0},
	} {
		got, err := FileVersion(v)
		if err != nil || got != want {
			t.Errorf("FileVersion(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", "1.2", "v1.2.3", "1.2.70000", "0.0.0-dev.70000+g1"} {
		if got, err := FileVersion(v); err == nil {
			t.Errorf("FileVersion(%q) = %v, want an error", v, got)
		}
	}
}

// TestSysoIsReproducible: two runs give the same object (no time stamp),
// and the version decides it.
func TestSysoIsReproducible(t *testing.T) {
	dir := t.TempDir()
	build := func(name, ver string) []byte {
		out := filepath.Join(dir, name)
		if err := run([]string{"syso", "-version", ver, "-name", "pgsafe.exe", "-description", "PgSafe", "-out", out}, nil); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := build("a.syso", "0.1.0-dev.3+gabc"), build("b.syso", "0.1.0-dev.3+gabc")
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same inputs wrote different .syso files")
	}
	if c := build("c.syso", "0.1.0-dev.4+gdef"); bytes.Equal(a, c) {
		t.Fatal("another version wrote the same .syso file")
	}
}

func TestResources(t *testing.T) {
	rs, err := resources("../../appicon.png", "../info.json", "../wails.exe.manifest", "0.1.0-dev.3+gabc", "pgsafe.exe", "PgSafe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.GetIcon(appIconID); err != nil {
		t.Errorf("no icon with the ID the Wails window loads: %v", err)
	}
	if rs.Get(winres.RT_MANIFEST, winres.ID(1), winres.LCIDDefault) == nil {
		t.Error("no manifest")
	}
	if !bytes.Contains(rs.Get(winres.RT_MANIFEST, winres.ID(1), winres.LCIDDefault), []byte(`version="0.1.0.3"`)) {
		t.Error("the manifest's assembly version is not the file version")
	}
	vi := rs.Get(winres.RT_VERSION, winres.ID(1), langEnUS)
	if vi == nil {
		t.Fatal("no version information in en-US")
	}
	for _, s := range []string{"0.1.0-dev.3+gabc", "pgsafe.exe", "PgSafe contributors"} {
		if !bytes.Contains(vi, utf16le(s)) {
			t.Errorf("the version information lacks %q", s)
		}
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func TestZipIsReproducible(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"pgsafe.exe": "app", "pgsafe-headless.exe": "headless"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zipOf := func(out string, files ...string) []byte {
		args := append([]string{"zip", "-out", filepath.Join(dir, out), "-time", "1700000000", "-dir-name", "pgsafe_1.0.0"}, files...)
		if err := run(args, nil); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, out))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := zipOf("a.zip", filepath.Join(dir, "pgsafe.exe"), filepath.Join(dir, "pgsafe-headless.exe"))
	// Another order of arguments, and newer file times: the same bytes.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "pgsafe.exe"), later, later)
	b := zipOf("b.zip", filepath.Join(dir, "pgsafe-headless.exe"), filepath.Join(dir, "pgsafe.exe"))
	if !bytes.Equal(a, b) {
		t.Fatal("two zips of the same files differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s has time %v", f.Name, f.Modified)
		}
	}
	if got := strings.Join(names, " "); got != "pgsafe_1.0.0/pgsafe-headless.exe pgsafe_1.0.0/pgsafe.exe" {
		t.Errorf("entries %s", got)
	}
}
