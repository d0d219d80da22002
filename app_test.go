//go:build !headless

package main

import (
	"reflect"
	"testing"
)

func TestStartHidden(t *testing.T) {
	for _, c := range []struct {
		args   []string
		env    string
		hidden bool
		rest   []string
	}{
		{nil, "", false, []string{}},
		{[]string{"--hidden"}, "", true, []string{}},
		{[]string{"--hidden", "-assetdir", "x"}, "", true, []string{"-assetdir", "x"}},
		{[]string{"-assetdir", "x"}, "1", true, []string{"-assetdir", "x"}},
		{nil, "true", true, []string{}},
		{nil, "0", false, []string{}},
	} {
		hidden, rest := startHidden(c.args, c.env)
		if hidden != c.hidden || !reflect.DeepEqual(rest, c.rest) {
			t.Errorf("startHidden(%q, %q) = %v, %q; want %v, %q", c.args, c.env, hidden, rest, c.hidden, c.rest)
		}
	}
}
