package pg

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// BenchmarkAudit audits a read-only role in a database of 10 schemas with
// 100 tables each (a serial key, so a sequence each too).
func BenchmarkAudit(b *testing.B) {
	p := testenv.Postgres(b)
	p.CreateDB(b, "big")
	var sql strings.Builder
	sql.WriteString("CREATE ROLE bench LOGIN PASSWORD 'bench-pw-12345'; REVOKE TEMPORARY ON DATABASE big FROM PUBLIC;")
	for s := 0; s < 10; s++ {
		fmt.Fprintf(&sql, "CREATE SCHEMA s%d;", s)
		for t := 0; t < 100; t++ {
			fmt.Fprintf(&sql, "CREATE TABLE s%d.t%d (id serial PRIMARY KEY, v text);", s, t)
		}
		fmt.Fprintf(&sql, "GRANT USAGE ON SCHEMA s%[1]d TO bench; GRANT SELECT ON ALL TABLES IN SCHEMA s%[1]d TO bench; GRANT SELECT ON ALL SEQUENCES IN SCHEMA s%[1]d TO bench;", s)
	}
	p.Exec(b, "big", sql.String())
	ctx := context.Background()
	conn, err := Connect(ctx, clusterConfig(p, "big", "bench", "bench-pw-12345"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Audit(ctx, conn)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Verdict != VerdictReadOnly {
			b.Fatalf("verdict %s: %v", rep.Verdict, rep.Codes())
		}
	}
}
