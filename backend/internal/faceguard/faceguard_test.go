package faceguard

import (
	"strings"
	"testing"
)

// Check reports functions, methods, constants and variables of a lower
// package, with their file and line, and nothing for its types and fields
// or for the engine (a peer).
func TestCheck(t *testing.T) {
	uses, err := Check(Options{Dir: "testdata/face", Peers: []string{"backend/engine"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range uses {
		got = append(got, u.String())
	}
	want := []string{
		"face.go:21: const store.StatusSucceeded",
		"face.go:22: var store.ErrNotFound",
		"face.go:23: func store.NewSecret",
		"face.go:24: func store.NewSecret",
		"face.go:24: method store.Secret.IsSet",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("uses:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Without the engine as a peer, its function is a use too.
	uses, err = Check(Options{Dir: "testdata/face"})
	if err != nil {
		t.Fatal(err)
	}
	if len(uses) != len(want)+1 || uses[0].Name != "engine.StorageWhere" {
		t.Fatalf("no peers: %v", uses)
	}
}

func TestSort(t *testing.T) {
	uses := []Use{
		{File: "a.go", Name: "store.Secret.IsSet"},
		{File: "b.go", Name: "format.Open"},
		{File: "b.go", Name: "format.Reader.Next"},
		{File: "c.go", Name: "format.Open"},
		{File: "c.go", Name: "keys.Wipe"},
	}
	allow := []Allow{
		{Name: "store.Secret.IsSet"},
		{File: "b.go", Name: "format.*"},
		{File: "d.go", Name: "keys.*"},
	}
	denied, stale := Sort(uses, allow)
	if len(denied) != 2 || denied[0].File != "c.go" || denied[1].Name != "keys.Wipe" {
		t.Fatalf("denied %v", denied)
	}
	if len(stale) != 1 || stale[0].File != "d.go" {
		t.Fatalf("stale %v", stale)
	}
}

// A package that does not build is an error, not an empty list.
func TestCheckFailsLoudly(t *testing.T) {
	if _, err := Check(Options{Dir: "testdata/nowhere"}); err == nil {
		t.Fatal("a missing package checked clean")
	}
}
