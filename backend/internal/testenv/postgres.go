package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DebianPGMajor is the PostgreSQL major Debian 12 ships; Postgres uses its
// binaries unless told otherwise.
const DebianPGMajor = 15

// PG is a running throwaway PostgreSQL cluster.
type PG struct {
	Host     string // 127.0.0.1
	Port     int
	User     string // the superuser, "postgres"
	Password string // random per cluster; scram-sha-256
	BinDir   string // the server binaries used (initdb, pg_ctl, postgres)
	Major    int    // e.g. 15
	Version  string // e.g. "15.18", from postgres --version
	DataDir  string
	// SocketDir holds the cluster's Unix socket (-k); only the server's
	// user can enter it when tests run as root.
	SocketDir string
	LogFile   string // the server log (pg_ctl -l)

	owner    *runUser
	stopOnce sync.Once
	stopErr  error
}

// PGOption configures Postgres.
type PGOption func(*pgConfig)

type pgConfig struct {
	binDir  string
	version int
}

// WithBinDir uses the server binaries (initdb, pg_ctl, postgres) in dir, e.g.
// another major's; the major is read from postgres --version.
func WithBinDir(dir string) PGOption { return func(c *pgConfig) { c.binDir = dir } }

// WithVersion uses PostgreSQL major: <tools>/postgres/<major>/bin (installed
// by `make test-deps` / scripts/fetch-embedded-pg.sh), else Debian's
// /usr/lib/postgresql/<major>/bin. It fails the test if neither exists.
func WithVersion(major int) PGOption { return func(c *pgConfig) { c.version = major } }

// Postgres starts a throwaway cluster on a free 127.0.0.1 port: initdb
// (superuser postgres, scram-sha-256, random password, UTF8, C.UTF-8,
// --no-sync) and pg_ctl start (-k <private socket dir>, fsync=off); it stops
// at cleanup (pg_ctl -m fast -w stop) and its files are removed. Default
// binaries: Debian's /usr/lib/postgresql/15/bin. As root, the server runs as
// an unprivileged user (see the package doc). Tests may call it in parallel.
func Postgres(t testing.TB, opts ...PGOption) *PG {
	t.Helper()
	var cfg pgConfig
	for _, o := range opts {
		o(&cfg)
	}
	owner := serverUser(t)
	binDir := resolvePGBinDir(t, cfg)
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		requireExecutable(t, filepath.Join(binDir, name), "PostgreSQL's "+name, pgInstallHint(cfg))
	}
	version, major := pgServerVersion(t, binDir, owner)
	if cfg.version != 0 && major != cfg.version {
		t.Fatalf("testenv: WithVersion(%d): %s/postgres is PostgreSQL %s; reinstall with: %s",
			cfg.version, binDir, version, pgInstallHint(cfg))
	}

	dir := tempDir(t, "pg", owner)
	p := &PG{
		Host: "127.0.0.1", User: "postgres", Password: randomHex(16),
		BinDir: binDir, Major: major, Version: version,
		DataDir: filepath.Join(dir, "data"), SocketDir: dir, LogFile: filepath.Join(dir, "server.log"),
		owner: owner,
	}
	pwfile := filepath.Join(dir, "pwfile")
	writeFile(t, pwfile, []byte(p.Password+"\n"), 0o600, owner)
	env := p.serverEnv(dir)

	out, err := runTool(owner, dir, env, 60*time.Second, filepath.Join(binDir, "initdb"),
		"-D", p.DataDir, "-U", p.User, "--auth=scram-sha-256", "--pwfile="+pwfile,
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	if err != nil {
		t.Fatalf("testenv: initdb (PostgreSQL %s in %s): %v\n%s", version, binDir, err, out)
	}
	os.Remove(pwfile)

	// A watchdog that stops the cluster if this test binary dies without
	// running its cleanups (e.g. killed by the test timeout): postgres runs
	// detached from us (pg_ctl start), so no parent-death signal reaches it.
	// The watchdog waits for EOF on a pipe whose write end only we hold, then
	// also removes the cluster's files.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	watch := exec.Command("/bin/sh", "-c", `read _ ; "$0" -D "$1" -m immediate -w stop >/dev/null 2>&1 ; rm -rf "$2"`,
		filepath.Join(binDir, "pg_ctl"), p.DataDir, dir)
	watch.Stdin = pr
	watch.Dir = dir
	watch.Env = env
	wd := startProcAttr(t, "postgres watchdog", watch, owner, false)
	pr.Close()
	t.Cleanup(func() {
		// Runs after the server stopped: dismiss the watchdog.
		_ = wd.cmd.Process.Kill()
		<-wd.done
		pw.Close()
	})

	started := false
	t.Cleanup(func() {
		err := p.stop()
		if err != nil && started {
			t.Errorf("testenv: stopping PostgreSQL: %v", err)
		}
		if t.Failed() {
			if log, err := os.ReadFile(p.LogFile); err == nil && len(log) > 0 {
				t.Logf("testenv: PostgreSQL server log:\n%s", log)
			}
		}
	})
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p.Port = freePort(t)
		out, err := runTool(owner, dir, env, 60*time.Second, filepath.Join(binDir, "pg_ctl"),
			"-D", p.DataDir, "-l", p.LogFile, "-w", "-t", "60", "-o",
			fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", p.Port, dir), "start")
		if err == nil {
			lastErr = nil
			break
		}
		log, _ := os.ReadFile(p.LogFile)
		lastErr = fmt.Errorf("pg_ctl start: %v\n%s\nserver log:\n%s", err, out, log)
		if !strings.Contains(string(log), "could not bind") && !strings.Contains(string(log), "already in use") {
			break // not a port clash: do not retry
		}
	}
	if lastErr != nil {
		t.Fatalf("testenv: PostgreSQL %s: %v", version, lastErr)
	}
	started = true
	if err := waitTCP(net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), nil, 10*time.Second); err != nil {
		t.Fatalf("testenv: PostgreSQL: %v", err)
	}
	return p
}

// URL is a connection URL for database db as the superuser, e.g.
// postgres://postgres:pw@127.0.0.1:port/db?sslmode=disable.
func (p *PG) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(p.User, p.Password),
		Host:     net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Environ returns libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGSSLMODE) for this cluster, for running client tools such as pg_dump.
func (p *PG) Environ() []string {
	return []string{
		"PGHOST=" + p.Host,
		"PGPORT=" + strconv.Itoa(p.Port),
		"PGUSER=" + p.User,
		"PGPASSWORD=" + p.Password,
		"PGSSLMODE=disable",
	}
}

// Conn opens a pgx connection to db as the superuser, closed at cleanup.
func (p *PG) Conn(t testing.TB, db string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.URL(db))
	if err != nil {
		t.Fatalf("testenv: connecting to PostgreSQL %s database %q: %v", p.Version, db, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Exec runs sql (one or more statements, no parameters) in database db as the
// superuser, failing the test on error.
func (p *PG) Exec(t testing.TB, db, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.URL(db))
	if err != nil {
		t.Fatalf("testenv: connecting to PostgreSQL database %q: %v", db, err)
	}
	defer conn.Close(context.Background())
	// The simple protocol allows several statements in one string.
	if _, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("testenv: in database %q: %v\nSQL: %s", db, err, sql)
	}
}

// CreateDB creates database name (UTF8, owned by the superuser).
func (p *PG) CreateDB(t testing.TB, name string) {
	t.Helper()
	p.Exec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

// Stop stops the server now (pg_ctl -m fast -w stop), e.g. to test an
// unreachable server. Cleanup does it otherwise; stopping twice is harmless.
func (p *PG) Stop(t testing.TB) {
	t.Helper()
	if err := p.stop(); err != nil {
		t.Fatalf("testenv: stopping PostgreSQL: %v", err)
	}
}

// Restart restarts the server (pg_ctl -m fast -w restart), dropping every
// connection, as a server restart in production does.
func (p *PG) Restart(t testing.TB) {
	t.Helper()
	out, err := runTool(p.owner, p.SocketDir, p.serverEnv(p.SocketDir), 60*time.Second,
		filepath.Join(p.BinDir, "pg_ctl"), "-D", p.DataDir, "-l", p.LogFile, "-m", "fast", "-w", "-t", "60", "restart")
	if err != nil {
		t.Fatalf("testenv: restarting PostgreSQL: %v\n%s", err, out)
	}
}

func (p *PG) stop() error {
	p.stopOnce.Do(func() {
		out, err := runTool(p.owner, p.SocketDir, p.serverEnv(p.SocketDir), 60*time.Second,
			filepath.Join(p.BinDir, "pg_ctl"), "-D", p.DataDir, "-m", "fast", "-w", "-t", "60", "stop")
		if err != nil {
			p.stopErr = fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	return p.stopErr
}

// serverEnv is the environment for initdb/pg_ctl: ours without libpq/PG*
// variables that could redirect them, with HOME in the cluster's directory.
func (p *PG) serverEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+dir)
}

func pgInstallHint(cfg pgConfig) string {
	if cfg.version != 0 && cfg.version != DebianPGMajor {
		return fmt.Sprintf("%s (or: scripts/fetch-embedded-pg.sh %d)", InstallHint, cfg.version)
	}
	if cfg.binDir != "" {
		return "a PostgreSQL server installation with initdb, pg_ctl and postgres in " + cfg.binDir
	}
	return fmt.Sprintf("%s (Debian package postgresql-%d, see scripts/setup-deps.sh)", InstallHint, DebianPGMajor)
}

// resolvePGBinDir picks the server binaries for cfg.
func resolvePGBinDir(t testing.TB, cfg pgConfig) string {
	t.Helper()
	switch {
	case cfg.binDir != "":
		abs, err := filepath.Abs(cfg.binDir)
		if err != nil {
			t.Fatalf("testenv: WithBinDir(%q): %v", cfg.binDir, err)
		}
		return abs
	case cfg.version != 0:
		tools := filepath.Join(ToolsDir(t), "postgres", strconv.Itoa(cfg.version), "bin")
		debian := fmt.Sprintf("/usr/lib/postgresql/%d/bin", cfg.version)
		for _, dir := range []string{tools, debian} {
			if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
				return dir
			}
		}
		t.Fatalf("testenv: PostgreSQL %d is not installed (looked in %s and %s); install it with: %s",
			cfg.version, tools, debian, pgInstallHint(cfg))
	}
	debian := fmt.Sprintf("/usr/lib/postgresql/%d/bin", DebianPGMajor)
	if _, err := os.Stat(filepath.Join(debian, "postgres")); err == nil {
		return debian
	}
	// Another distribution release: its newest packaged server.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(dirs, func(i, j int) bool { return pgDirMajor(dirs[i]) > pgDirMajor(dirs[j]) })
	if len(dirs) > 0 {
		return filepath.Dir(dirs[0])
	}
	t.Fatalf("testenv: no PostgreSQL server in %s; install it with: %s", debian, pgInstallHint(cfg))
	return ""
}

func pgDirMajor(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

var pgVersionRE = regexp.MustCompile(`\(PostgreSQL\) ((\d+)(?:\.\d+)?)`)

// pgServerVersion runs postgres --version as the server's user, which also
// proves that user can reach and run the binaries.
func pgServerVersion(t testing.TB, binDir string, owner *runUser) (version string, major int) {
	t.Helper()
	bin := filepath.Join(binDir, "postgres")
	out, err := runTool(owner, "/", os.Environ(), 30*time.Second, bin, "--version")
	if err != nil {
		who := "the current user"
		if owner != nil {
			who = "user " + owner.Name + " (servers run as it because tests run as root)"
		}
		t.Fatalf("testenv: %s cannot run %s --version: %v\n%s\nEvery directory above it must be world-searchable and the files world-readable (chmod a+rX), or set PGSAFE_TOOLS_DIR to a place that is; reinstall with: %s",
			who, bin, err, out, InstallHint)
	}
	m := pgVersionRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("testenv: cannot parse the version from %s --version: %q", bin, out)
	}
	major, _ = strconv.Atoi(m[2])
	return m[1], major
}
