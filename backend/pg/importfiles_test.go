package pg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportCandidates(t *testing.T) {
	dir := t.TempDir()
	svc := filepath.Join(dir, "pg_service.conf")
	pass := filepath.Join(dir, "pgpass")
	os.WriteFile(svc, []byte("[shop-prod]\nhost=db.example.com\nport=5433\ndbname=shop\nuser=backup\nsslmode=require\n\n[analytics]\nhost=10.0.0.7\ndbname=stats\nuser=ro\npassword=svc-pw-2\n"), 0o600)
	os.WriteFile(pass, []byte("db.example.com:5433:shop:backup:pass-pw-1\n*:*:*:postgres:wild\nlocalhost:5432:app:app:pass-pw-3\n"), 0o600)
	t.Setenv("PGSERVICEFILE", svc)
	t.Setenv("PGPASSFILE", pass)

	cs, err := ImportCandidates()
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range cs {
		labels = append(labels, c.Label)
		if !c.HasPassword {
			t.Errorf("%s: no password found", c.Label)
		}
	}
	if got := strings.Join(labels, ","); got != "shop-prod,analytics,backup@db.example.com/shop,app@localhost/app" {
		t.Fatalf("candidates %s", got)
	}
	if cs[0].Port != 5433 || cs[0].SSLMode != "require" || cs[0].User != "backup" {
		t.Fatalf("shop-prod = %+v", cs[0])
	}
	for _, tc := range []struct{ ref, pw string }{{"service:shop-prod", "pass-pw-1"}, {"service:analytics", "svc-pw-2"}, {"pgpass:2", "pass-pw-3"}} {
		c, err := ResolveCandidate(tc.ref)
		if err != nil || c.Password.Reveal() != tc.pw {
			t.Errorf("ResolveCandidate(%s) = %v, %v", tc.ref, c, err)
		}
	}
	if _, err := ResolveCandidate("service:gone"); err == nil {
		t.Error("a missing service resolved")
	}
	// No files: no candidates, no error.
	t.Setenv("PGSERVICEFILE", filepath.Join(dir, "none"))
	t.Setenv("PGPASSFILE", filepath.Join(dir, "none2"))
	if cs, err := ImportCandidates(); err != nil || len(cs) != 0 {
		t.Fatalf("without files: %v, %v", cs, err)
	}
}
