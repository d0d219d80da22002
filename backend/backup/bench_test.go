package backup

import (
	"context"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// discard is a storage that reads and drops everything: it measures the
// pipeline, not a disk.
type discard struct{}

func (discard) Put(_ context.Context, _ string, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (discard) Delete(context.Context, string) error { return nil }

// BenchmarkRun backs up a ~250 MB database (half compressible text, half
// hex noise) and reports pg_dump→zstd→AES throughput and the peak heap,
// which must stay flat whatever the database size.
func BenchmarkRun(b *testing.B) {
	pg := testenv.Postgres(b)
	pg.CreateDB(b, "big")
	pg.Exec(b, "big", `CREATE TABLE t AS SELECT g AS id, repeat('customer record ', 8) AS txt,
		md5(g::text) || md5((g+1)::text) AS noise FROM generate_series(1, 1200000) g`)
	mk, _ := keys.NewMasterKey()
	job := Job{DatabaseID: "bench", Label: "big", Key: mk, Clients: pgtools.Discover(context.Background()),
		Conn:    pgtools.Conn{Host: pg.Host, Port: pg.Port, Database: "big", User: pg.User, Password: pg.Password, SSLMode: "disable"},
		Targets: []Target{{ID: "d", Name: "discard", Storage: discard{}}, {ID: "d2", Name: "discard 2", Storage: discard{}}},
		Count:   func(string, string) bool { return false }}

	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	var raw int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := Run(context.Background(), job)
		if err != nil {
			b.Fatal(err)
		}
		raw = m.Manifest.RawSize
	}
	b.StopTimer()
	close(stop)
	b.SetBytes(raw)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}
