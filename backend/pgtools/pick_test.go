package pgtools

import (
	"errors"
	"strings"
	"testing"
)

func TestPick(t *testing.T) {
	ins := []Install{
		{Dir: "/a/17", Version: Version{Major: 17, Minor: 2}},
		{Dir: "/a/16", Version: Version{Major: 16, Minor: 4}},
		{Dir: "/b/16", Version: Version{Major: 16, Minor: 9}},
		{Dir: "/a/13", Version: Version{Major: 13, Minor: 1}},
	}
	for _, tc := range []struct {
		server int
		want   string
	}{
		{12, "/a/13"}, {13, "/a/13"}, {14, "/b/16"}, {16, "/b/16"}, {17, "/a/17"},
	} {
		got, err := Pick(ins, tc.server)
		if err != nil || got.Dir != tc.want {
			t.Errorf("Pick(server %d) = %q, %v; want %q", tc.server, got.Dir, err, tc.want)
		}
	}
	_, err := Pick(ins, 18)
	var nm *NoMatchingClientError
	if !errors.As(err, &nm) || nm.ServerMajor != 18 {
		t.Fatalf("Pick(18) error = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"PostgreSQL 18", "pg_dump 18 or newer", "17.2 (/a/17)", "13.1 (/a/13)", "18"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if _, err := Pick(nil, 15); err == nil || !strings.Contains(err.Error(), "no pg_dump was found") {
		t.Errorf("Pick(nil) error = %v", err)
	}
}
