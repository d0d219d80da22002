// Package pgtools finds the PostgreSQL client programs (pg_dump, pg_restore,
// psql) installed on this machine and reports their versions, so that a backup
// can use a pg_dump whose major version matches the server it dumps.
package pgtools

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is a PostgreSQL release number such as 15.18 (Minor is 0 for
// pre-releases like 18beta1, whose Suffix holds "beta1").
type Version struct {
	Major  int    `json:"major"`
	Minor  int    `json:"minor"`
	Suffix string `json:"suffix,omitempty"`
}

func (v Version) String() string {
	if v.Suffix != "" {
		return fmt.Sprintf("%d%s", v.Major, v.Suffix)
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

var versionRe = regexp.MustCompile(`\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?([a-z]+\d*)?`)

// ParseVersion reads the output of `pg_dump --version` and friends,
// for example "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)".
func ParseVersion(out string) (Version, error) {
	m := versionRe.FindStringSubmatch(out)
	if m == nil {
		return Version{}, fmt.Errorf("not a PostgreSQL version line: %q", strings.TrimSpace(out))
	}
	v := Version{Suffix: m[3]}
	v.Major, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		v.Minor, _ = strconv.Atoi(m[2])
	}
	return v, nil
}

// Install is one directory holding PostgreSQL client programs.
type Install struct {
	Dir       string  `json:"dir"`
	Version   Version `json:"version"`
	PgDump    string  `json:"pgDump"`
	PgRestore string  `json:"pgRestore,omitempty"` // empty when missing from Dir
	Psql      string  `json:"psql,omitempty"`
}

// Discover looks for pg_dump in extraDirs (user-set paths, searched first),
// the well-known install locations of this OS and PATH, runs each one found
// with --version, and returns the installs newest first. Directories whose
// pg_dump does not run are skipped. Two entries with the same version and the
// same resolved program are reported once.
func Discover(ctx context.Context, extraDirs ...string) []Install {
	var out []Install
	seen := map[string]bool{}
	for _, dir := range append(extraDirs, candidateDirs()...) {
		exe := filepath.Join(dir, programName("pg_dump"))
		real, err := filepath.EvalSymlinks(exe)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		v, err := ProgramVersion(ctx, exe)
		if err != nil {
			continue
		}
		if dup(out, v) && !contains(extraDirs, dir) {
			// PATH wrappers (Debian's pg_wrapper) repeat a versioned install.
			continue
		}
		in := Install{Dir: dir, Version: v, PgDump: exe}
		if p := filepath.Join(dir, programName("pg_restore")); isFile(p) {
			in.PgRestore = p
		}
		if p := filepath.Join(dir, programName("psql")); isFile(p) {
			in.Psql = p
		}
		out = append(out, in)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Version.Major != out[j].Version.Major {
			return out[i].Version.Major > out[j].Version.Major
		}
		return out[i].Version.Minor > out[j].Version.Minor
	})
	return out
}

// ProgramVersion runs `exe --version` (with a short timeout) and parses it.
func ProgramVersion(ctx context.Context, exe string) (Version, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "--version")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		return Version{}, fmt.Errorf("run %s --version: %w", exe, err)
	}
	v, err := ParseVersion(stdout.String())
	if err != nil {
		return Version{}, fmt.Errorf("%s: %w", exe, err)
	}
	return v, nil
}

func dup(ins []Install, v Version) bool {
	for _, in := range ins {
		if in.Version == v {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func programName(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// candidateDirs lists where PostgreSQL client programs are usually installed
// on this OS, versioned locations before PATH.
func candidateDirs() []string {
	var globs []string
	switch runtime.GOOS {
	case "linux":
		globs = []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/postgresql*/bin"}
	case "darwin":
		globs = []string{
			"/opt/homebrew/opt/postgresql@*/bin", "/opt/homebrew/opt/libpq/bin",
			"/usr/local/opt/postgresql@*/bin", "/usr/local/opt/libpq/bin",
			"/Applications/Postgres.app/Contents/Versions/*/bin",
		}
	case "windows":
		for _, env := range []string{"ProgramFiles", "ProgramW6432"} {
			if pf := os.Getenv(env); pf != "" {
				globs = append(globs, filepath.Join(pf, "PostgreSQL", "*", "bin"))
			}
		}
	}
	var dirs []string
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		dirs = append(dirs, m...)
	}
	return append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
}
