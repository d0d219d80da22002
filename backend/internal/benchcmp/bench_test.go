// Package benchcmp compares a PgSafe backup with pg_dump on its own: the
// benchmark behind docs/BENCHMARKS.md (`make bench`). It needs the built
// binary (PGSAFE_BIN, set by the Makefile) so PgSafe's peak RSS is measured
// as a user's process, not a test's.
package benchcmp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// run is one measured program run.
type run struct {
	wall time.Duration
	rss  int64 // peak, bytes
	size int64 // output, bytes
}

// measure runs cmd and reads its wall time and peak RSS.
func measure(b *testing.B, cmd *exec.Cmd) run {
	b.Helper()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", cmd.Path, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return run{wall: wall, rss: ru.Maxrss * 1024}
}

func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// sizeMB is the raw dump size each data set aims at (PGSAFE_BENCH_MB,
// default 500).
func sizeMB() int {
	if n, err := strconv.Atoi(os.Getenv("PGSAFE_BENCH_MB")); err == nil && n > 0 {
		return n
	}
	return 500
}

// BenchmarkBackupVsPgDump prints, for a pgbench database and a realistic
// one, wall time, output size and peak RSS of: the floor (pg_dump -Fc -Z0 >
// /dev/null), pg_dump -Fc (its default compression) and `pgsafe backup`
// (zstd + encryption into a local folder), with ratios and the targets.
func BenchmarkBackupVsPgDump(b *testing.B) {
	bin := os.Getenv("PGSAFE_BIN")
	if bin == "" {
		b.Fatal("PGSAFE_BIN must name the built pgsafe binary (make bench sets it)")
	}
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(testenv.RepoRoot(b), bin)
	}
	pg := testenv.Postgres(b)
	install, err := pgtools.Pick(pgtools.Discover(context.Background()), pg.Major)
	if err != nil {
		b.Fatal(err)
	}
	mb := sizeMB()
	sets := []struct {
		name, setup string
		pgbench     bool
	}{
		{"pgbench", "", true},
		{"realistic", realisticSQL(mb), false},
	}
	for _, set := range sets {
		pg.CreateDB(b, set.name)
		start := time.Now()
		if set.pgbench {
			// ~15 MB of dump per scale unit; server-side generation.
			cmd := exec.Command(filepath.Join(filepath.Dir(install.PgDump), "pgbench"), "-i", "-q", "-I", "dtG",
				"-s", strconv.Itoa(max(1, mb/15)), set.name)
			cmd.Env = append(os.Environ(), pg.Environ()...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("pgbench -i: %v\n%s", err, out)
			}
		} else {
			pg.Exec(b, set.name, set.setup)
		}
		pg.Exec(b, set.name, "VACUUM ANALYZE")
		fmt.Printf("\n%s data set generated in %v\n", set.name, time.Since(start).Round(time.Second))
		compare(b, bin, pg, install, set.name)
	}
}

func compare(b *testing.B, bin string, pg *testenv.PG, install pgtools.Install, db string) {
	dir := b.TempDir()
	env := append(os.Environ(), pg.Environ()...)

	dump := func(args ...string) *exec.Cmd {
		cmd := exec.Command(install.PgDump, append([]string{"-d", db}, args...)...)
		cmd.Env = env
		return cmd
	}
	// The floor: pg_dump's own pace with nothing else to do.
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	floorCmd := dump("-Fc", "-Z0")
	floorCmd.Stdout = devnull
	start := time.Now()
	if err := floorCmd.Run(); err != nil {
		b.Fatal(err)
	}
	floor := run{wall: time.Since(start), rss: floorCmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024}
	rawPath := filepath.Join(dir, "raw.dump")
	raw := measure(b, dump("-Fc", "-Z0", "-f", rawPath))
	raw.size = fileSize(b, rawPath)
	os.Remove(rawPath)
	gzPath := filepath.Join(dir, "gz.dump")
	gz := measure(b, dump("-Fc", "-f", gzPath))
	gz.size = fileSize(b, gzPath)
	os.Remove(gzPath)

	// PgSafe: its own settings and a key file, a local folder storage.
	home, folder := filepath.Join(dir, "home"), filepath.Join(dir, "folder")
	os.Mkdir(home, 0o700)
	os.Mkdir(folder, 0o700)
	mk, _ := keys.NewMasterKey()
	keyFile := filepath.Join(dir, "master.key")
	if err := keys.WriteKeyFile(keyFile, mk); err != nil {
		b.Fatal(err)
	}
	pgsafe := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "PGSAFE_HOME="+home, keys.EnvKeyFile+"="+keyFile)
		return cmd
	}
	for _, args := range [][]string{
		{"storage", "add", "local", "--name", "disk", "--path", folder},
		{"db", "add", "--name", db, "--url", pg.URL(db), "--storage", "disk", "--no-check"},
	} {
		if out, err := pgsafe(args...).CombinedOutput(); err != nil {
			b.Fatalf("pgsafe %v: %v\n%s", args, err, out)
		}
	}
	backup := func(bin string) run {
		cmd := exec.Command(bin, "backup", db, "--json")
		cmd.Env = append(os.Environ(), "PGSAFE_HOME="+home, keys.EnvKeyFile+"="+keyFile)
		start := time.Now()
		out, err := cmd.Output()
		r := run{wall: time.Since(start)}
		if err != nil {
			b.Fatalf("%s backup: %v", bin, err)
		}
		r.rss = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
		var res struct {
			StoredSize int64 `json:"stored_size"`
		}
		json.Unmarshal(out, &res)
		r.size = res.StoredSize
		return r
	}
	ours := backup(bin)
	var headless *run
	if hb := os.Getenv("PGSAFE_HEADLESS_BIN"); hb != "" {
		r := backup(hb)
		headless = &r
	}

	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	fmt.Printf("%s: raw dump %.0f MiB\n", db, mib(raw.size))
	fmt.Printf("  %-30s %9s %11s %9s\n", "", "wall", "output", "peak RSS")
	fmt.Printf("  %-30s %8.2fs %11s %7.1f MiB\n", "pg_dump -Fc -Z0 > /dev/null", floor.wall.Seconds(), "-", mib(floor.rss))
	fmt.Printf("  %-30s %8.2fs %7.1f MiB %7.1f MiB\n", "pg_dump -Fc (gzip)", gz.wall.Seconds(), mib(gz.size), mib(gz.rss))
	fmt.Printf("  %-30s %8.2fs %7.1f MiB %7.1f MiB\n", "pgsafe backup (zstd + AES-GCM)", ours.wall.Seconds(), mib(ours.size), mib(ours.rss))
	if headless != nil {
		fmt.Printf("  %-30s %8.2fs %7.1f MiB %7.1f MiB\n", "pgsafe-headless backup", headless.wall.Seconds(), mib(headless.size), mib(headless.rss))
	}
	ok := func(c bool) string {
		if c {
			return "✓"
		}
		return "✗"
	}
	wf, wg, sz := ours.wall.Seconds()/floor.wall.Seconds(), gz.wall.Seconds()/ours.wall.Seconds(), float64(ours.size)/float64(gz.size)
	fmt.Printf("  wall vs floor %.2f× (target ≤ 1.10 %s; issue 16, row counts on: ≤ 1.15 %s); %.1f× faster than pg_dump -Fc (target ≥ 5 %s); output %.2f× pg_dump -Fc's (target ≤ 1 %s); RSS %.1f MiB (target ≤ 64 %s)\n",
		wf, ok(wf <= 1.10), ok(wf <= 1.15), wg, ok(wg >= 5), sz, ok(sz <= 1), mib(ours.rss), ok(mib(ours.rss) <= 64))
	b.ReportMetric(wf, "wall/floor")
	b.ReportMetric(wg, "speedup-vs-Fc")
	b.ReportMetric(sz, "size/Fc")
	b.ReportMetric(mib(ours.rss), "peak-RSS-MiB")
	if headless != nil {
		fmt.Printf("  headless build: wall vs floor %.2f×, RSS %.1f MiB (target ≤ 64 %s)\n", headless.wall.Seconds()/floor.wall.Seconds(), mib(headless.rss), ok(mib(headless.rss) <= 64))
		b.ReportMetric(mib(headless.rss), "headless-peak-RSS-MiB")
	}
}

// realisticSQL makes a table of about mb MiB of dump, as in an application's
// orders table: mixed column types, names and words drawn from vocabularies
// (so text compresses as real text does, not 100× like pgbench's padding),
// random numbers and timestamps, UUIDs and JSON.
func realisticSQL(mb int) string {
	rows := mb * 1024 * 1024 / 330 // about 330 bytes of dump text per row
	return fmt.Sprintf(`
CREATE FUNCTION words(n int) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg((ARRAY['the','order','was','delivered','late','customer','asked','for','a','refund','because',
		'package','arrived','damaged','and','missing','two','items','please','call','before','shipping','address',
		'changed','new','apartment','on','second','floor','gift','wrap','with','card','saying','happy','birthday',
		'return','label','printed','warehouse','Berlin','Lyon','Porto','Kraków','Ålesund','express','standard',
		'invoice','sent','to','accounting','discount','code','applied','twice','colour','blue','size','large'])
		[1 + (random() * 61)::int], ' ') FROM generate_series(1, n)
$$;
CREATE TABLE orders (
	id bigint PRIMARY KEY, customer_email text, status text, amount numeric(12,2), quantity int,
	created_at timestamptz, note text, ref uuid, attrs jsonb);
INSERT INTO orders
SELECT g,
	(ARRAY['anna','ben','chloe','dmitri','emma','felix','grace','hiro','ines','jamal','kofi','lena'])[1 + (random()*11)::int]
		|| '.' || (random()*100000)::int || '@' || (ARRAY['example.com','mail.test','corp.example','shop.test'])[1 + (random()*3)::int],
	(ARRAY['new','paid','shipped','delivered','refunded','cancelled'])[1 + (random()*5)::int],
	round((random()*5000)::numeric, 2), 1 + (random()*9)::int,
	timestamptz '2020-01-01' + random() * interval '2000 days',
	words(8 + (random()*30)::int),
	md5(random()::text || g)::uuid,
	jsonb_build_object('channel', (ARRAY['web','app','phone','store'])[1 + (random()*3)::int], 'score', (random()*100)::int)
FROM generate_series(1, %d) g;`, rows)
}
