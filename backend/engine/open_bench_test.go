package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/store"
)

// BenchmarkOpenWithLargeManifests opens the engine of a history of
// witnessBackups succeeded backups of a database of 10,000 tables (a
// manifest of about 600 kB each), as every command does: the audit check
// at open reads the kept witnesses, not the manifests (docs/BENCHMARKS.md).
func BenchmarkOpenWithLargeManifests(b *testing.B) {
	ctx := context.Background()
	opts := auditHome(b)
	e := openAuditEngine(b, opts)
	d, err := e.Store().CreateDatabase(ctx, store.DatabaseConfig{Name: "shop", Host: "db.example.internal", Port: 5432, DBName: "shop", User: "backup", SSLMode: "prefer"})
	if err != nil {
		b.Fatal(err)
	}
	m := backup.Manifest{Kind: backup.ManifestKind, Version: backup.ManifestVersion, RowsCounted: true}
	for i := range 10000 {
		m.Tables = append(m.Tables, backup.TableCount{Schema: "public", Name: fmt.Sprintf("t%d", i), Rows: 100})
	}
	for i := range witnessBackups {
		_, id, _ := store.NewBackupID()
		m.BackupID, m.Audit = id, &backup.AuditWitness{Store: "s", Seq: int64(i + 1), MAC: "00"}
		raw, _ := json.Marshal(m)
		if err := e.Store().CreateBackup(ctx, store.Backup{ID: id, DatabaseID: d, Status: store.StatusSucceeded, Origin: store.OriginManual,
			StartedAt: time.Now(), FinishedAt: time.Now(), KeyID: e.key.ID().String(), BackupDetails: store.BackupDetails{DatabaseName: "shop", Manifest: raw}}); err != nil {
			b.Fatal(err)
		}
		e.keepWitness(ctx, m.Audit)
	}
	e.Close()
	b.ResetTimer()
	for b.Loop() {
		e, err := Open(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
