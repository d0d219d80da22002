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
		{[]string{"--hidden"}, "", true, []string{"--hidden"}},
		{[]string{"--hidden", "-assetdir", "x"}, "", true, []string{"-assetdir", "x", "--hidden"}},
		{[]string{"-assetdir", "x"}, "1", true, []string{"-assetdir", "x", "--hidden"}},
		{nil, "true", true, []string{"--hidden"}},
		{nil, "0", false, []string{}},
	} {
		hidden, rest := startHidden(c.args, c.env)
		if hidden != c.hidden || !reflect.DeepEqual(rest, c.rest) {
			t.Errorf("startHidden(%q, %q) = %v, %q; want %v, %q", c.args, c.env, hidden, rest, c.hidden, c.rest)
		}
	}
}

// The name Wails' SingleInstanceLock owns on Linux (seen owned by the running
// app on its session bus, checked by hand with GetNameOwner).
func TestWailsInstanceBusName(t *testing.T) {
	if got := wailsInstanceBusName("io.pgsafe.desktop"); got != "org.wails_app_io_pgsafe_desktop.SingleInstance" {
		t.Errorf("wailsInstanceBusName = %q", got)
	}
}
