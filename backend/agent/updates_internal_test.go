package agent

import (
	"reflect"
	"testing"
)

func TestBrowserCommand(t *testing.T) {
	const page = "https://example.org/releases/tag/v0.2.0"
	for goos, want := range map[string][]string{
		"linux":   {"xdg-open", page},
		"darwin":  {"open", page},
		"windows": {"rundll32", "url.dll,FileProtocolHandler", page},
	} {
		if got, err := browserCommand(goos, page); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q, %v", goos, got, err)
		}
	}
	for _, bad := range []string{"http://example.org/", "file:///etc/passwd", "javascript:alert(1)", "-oProxyCommand=x", "https://"} {
		if _, err := browserCommand("linux", bad); err == nil {
			t.Errorf("%q would be opened", bad)
		}
	}
}
