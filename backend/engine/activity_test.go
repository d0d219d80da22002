package engine

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/audit"
)

// The audit log exported oldest first, as JSON or CSV, with what was
// recorded; any other format is refused before anything is written.
func TestExportAudit(t *testing.T) {
	e := openAuditEngine(t, auditHome(t))
	defer e.Close()
	ctx := context.Background()
	for _, target := range []string{"first", "second"} {
		if err := e.RecordEvent(ctx, Event{Action: "app.started", Target: target, Fields: map[string]string{"why": "test"}}); err != nil {
			t.Fatal(err)
		}
	}

	var js bytes.Buffer
	if err := e.ExportAudit(ctx, &js, "json"); err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	if err := json.Unmarshal(js.Bytes(), &recs); err != nil {
		t.Fatalf("%v: %s", err, js.String())
	}
	var targets []string
	for i, r := range recs {
		if i > 0 && r.Seq <= recs[i-1].Seq {
			t.Fatalf("not oldest first: seq %d after %d", r.Seq, recs[i-1].Seq)
		}
		if r.Action == "app.started" {
			targets = append(targets, r.Target)
		}
	}
	if strings.Join(targets, ",") != "first,second" {
		t.Fatalf("exported app.started of %v in %s", targets, js.String())
	}

	var cs bytes.Buffer
	if err := e.ExportAudit(ctx, &cs, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recs)+1 || strings.Join(rows[0], ",") != "seq,time,actor,action,outcome,target,fields,message" ||
		rows[len(rows)-1][5] != "second" || rows[len(rows)-1][6] != "why=test" {
		t.Fatalf("csv %v", rows)
	}

	var none bytes.Buffer
	if err := e.ExportAudit(ctx, &none, "xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) || none.Len() != 0 {
		t.Fatalf("xml: %v, wrote %q", err, none.String())
	}
}
