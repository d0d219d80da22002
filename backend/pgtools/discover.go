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
	PgDumpall string  `json:"pgDumpall,omitempty"` // empty when missing from Dir
}

// Discover looks for pg_dump in extraDirs (user-set paths, searched first),
// the well-known install locations of this OS and PATH, runs each one found
// with --version, and returns the installs newest first. Directories whose
// pg_dump does not run are skipped. Two entries with the same version and the
// same resolved program are reported once.
func Discover(ctx context.Context, extraDirs ...string) []Install {
	ins, _ := DiscoverKnown(ctx, nil, extraDirs...)
	return ins
}

// KnownVersions remembers what `pg_dump --version` said, by the program
// file's resolved path, size and modification time (Stamp): a program
// replaced (an upgrade, a new build) has another stamp and is run again.
// Running every install's pg_dump costs a process each (Debian's Perl
// wrapper alone ~0.2 s), on every backup.
type KnownVersions map[string]Version

// Stamp identifies a program file as KnownVersions does: its resolved path,
// size and modification time; false when it cannot be read.
func Stamp(real string) (string, bool) {
	fi, err := os.Stat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return fmt.Sprintf("%s|%d|%d", real, fi.Size(), fi.ModTime().UnixNano()), true
}

// DiscoverKnown is Discover that takes the versions of programs in known
// instead of running them, and returns, beside the installs, the versions of
// every program it found this time (known for the next call: programs gone
// or replaced are dropped from it).
func DiscoverKnown(ctx context.Context, known KnownVersions, extraDirs ...string) ([]Install, KnownVersions) {
	var out []Install
	found := KnownVersions{}
	seen := map[string]bool{}
	for _, dir := range append(extraDirs, candidateDirs()...) {
		exe := filepath.Join(dir, programName("pg_dump"))
		real, err := filepath.EvalSymlinks(exe)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		if isVersionWrapper(real) && !contains(extraDirs, dir) {
			continue
		}
		stamp, ok := Stamp(real)
		ok = ok && !isVersionWrapper(real) // a wrapper's answer is not its own: never remembered
		v, cached := known[stamp]
		if !ok || !cached {
			if v, err = ProgramVersion(ctx, exe); err != nil {
				continue
			}
		}
		if ok {
			found[stamp] = v
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
		if p := filepath.Join(dir, programName("pg_dumpall")); isFile(p) {
			in.PgDumpall = p
		}
		out = append(out, in)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Version.Major != out[j].Version.Major {
			return out[i].Version.Major > out[j].Version.Major
		}
		return out[i].Version.Minor > out[j].Version.Minor
	})
	return out, found
}

// debianWrapper is where Debian's postgresql-common keeps pg_wrapper, the
// Perl script /usr/bin/pg_dump and friends link to: it runs a pg_dump of
// /usr/lib/postgresql/VERSION/bin, which Discover searches itself.
const debianWrapper = "/usr/share/postgresql-common/"

// isVersionWrapper tells a program that only picks and runs a versioned
// install Discover finds anyway (Debian's pg_wrapper): its version is not
// its own but the one it picks, which a new install changes.
func isVersionWrapper(real string) bool {
	return runtime.GOOS == "linux" && strings.HasPrefix(real, debianWrapper)
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
			"/Library/PostgreSQL/*/bin",           // the EDB installer
			"/opt/homebrew/bin", "/usr/local/bin", // apps started from the Dock do not get the shell's PATH
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
