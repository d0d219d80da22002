package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const v = "hunter2-secret-value"
	sec := NewSecret(v)
	nested := StorageConfig{Name: "n", Kind: StorageSFTP, SFTP: &SFTPStorage{Password: sec}}
	db := DatabaseConfig{Password: sec, SSH: &SSHTunnel{PrivateKey: sec}}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		for _, x := range []any{sec, &sec, nested, &nested, db, []Secret{sec}, map[string]Secret{"k": sec}} {
			fmt.Fprintf(&out, verb+"\n", x)
		}
	}
	fmt.Fprintln(&out, sec.String(), sec.GoString())
	tb, _ := sec.MarshalText()
	out.Write(tb)
	js, err := json.Marshal(map[string]any{"s": sec, "n": nested, "db": db})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(js)
	slog.New(slog.NewTextHandler(&out, nil)).Info("m", "s", sec, "n", nested, "db", db)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("m", "s", sec, "n", nested, "db", db)
	for form, b := range forms(v) {
		if bytes.Contains(out.Bytes(), b) {
			t.Errorf("secret printed (%s form) in:\n%s", form, out.String())
		}
	}
	if !strings.Contains(out.String(), "[redacted]") || !strings.Contains(string(js), `{"set":true}`) {
		t.Fatalf("redaction markers missing: %s", js)
	}
	if sec.Reveal() != v || !sec.IsSet() || !sec.HasValue() {
		t.Fatal("Reveal")
	}
}

func TestSecretStatesAndJSON(t *testing.T) {
	if s := NewSecret(""); s.IsSet() || s.HasValue() || s.String() != "[not set]" {
		t.Fatal("empty secret")
	}
	if w := NewSecret("x").withheld(); !w.IsSet() || w.HasValue() || w.Reveal() != "" || w.String() != "[redacted]" {
		t.Fatal("withheld secret")
	}
	if r := RemoveSecret(); r.IsSet() || !r.Removes() {
		t.Fatal("RemoveSecret")
	}
	cases := map[string]Secret{
		`"new"`:                      NewSecret("new"),
		`""`:                         {},
		`null`:                       {},
		`{"set":true}`:               {set: true},
		`{"set":false}`:              {},
		`{"remove":true}`:            RemoveSecret(),
		`{"set":true,"remove":true}`: RemoveSecret(),
	}
	for in, want := range cases {
		var got Secret
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got.Reveal() != want.Reveal() || got.set != want.set || got.remove != want.remove {
			t.Errorf("%s: got %+v (value %q), want %+v", in, got, got.Reveal(), want)
		}
	}
	var s Secret
	if err := json.Unmarshal([]byte(`42`), &s); err == nil {
		t.Fatal("a number accepted as a secret")
	}
}
