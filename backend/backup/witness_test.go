package backup

import (
	"strings"
	"testing"
)

// The audit witness travels in the manifest, and manifests without one (of
// older versions) still parse.
func TestManifestAuditWitness(t *testing.T) {
	m := &Manifest{Kind: ManifestKind, Version: ManifestVersion, BackupID: "ab", Audit: &AuditWitness{Store: "5e", Seq: 42, MAC: "00ff"}}
	b, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseManifest(b)
	if err != nil || got.Audit == nil || *got.Audit != (AuditWitness{Store: "5e", Seq: 42, MAC: "00ff"}) {
		t.Fatalf("parsed %+v, %v from %s", got, err, b)
	}
	m.Audit = nil
	b, _ = MarshalManifest(m)
	if strings.Contains(string(b), `"audit"`) {
		t.Fatalf("an absent witness is written: %s", b)
	}
	got, err = ParseManifest([]byte(`{"kind":"pgsafe-manifest","version":1,"backup_id":"ab"}`))
	if err != nil || got.Audit != nil {
		t.Fatalf("old manifest: %+v, %v", got, err)
	}
}
