package engine

import (
	"context"
	"testing"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// The master key created at first run is in the audit log, although it is
// created before the log can be opened; a later open creates and records
// nothing.
func TestKeyCreationAudited(t *testing.T) {
	testenv.Keychain(t)
	home := t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	ctx := context.Background()
	keyEntries := func() []audit.Record {
		t.Helper()
		e, err := Open(ctx, Options{Home: home, CreateKey: true})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		recs, err := e.Audit().List(ctx, audit.Filter{ActionPrefix: "key."})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Fields["key_id"] != e.KeyID().String() {
				t.Fatalf("audited %s for key %q, the key is %s", r.Action, r.Fields["key_id"], e.KeyID())
			}
		}
		return recs
	}
	first := keyEntries()
	if len(first) != 1 || first[0].Action != "key.created" || first[0].Fields["source"] != "keychain" {
		t.Fatalf("audit log after the first run: %+v, want one key.created", first)
	}
	if again := keyEntries(); len(again) != 1 {
		t.Fatalf("audit log after a second open: %+v, want the one key.created", again)
	}
}
