package ui

import (
	"strings"
	"testing"
)

func TestRestoreRequestTarget(t *testing.T) {
	cases := []struct {
		name    string
		req     RestoreRequest
		replace bool
		err     string
	}{
		{"new database on the same server", RestoreRequest{Target: "same", User: "admin", Password: "pw", Database: "shop_restored"}, false, ""},
		{"replace needs the name typed", RestoreRequest{Target: "replace", User: "admin", Database: "shop", Confirm: "shp"}, false, "type the name of the database to replace (shop)"},
		{"replace confirmed", RestoreRequest{Target: "replace", User: "admin", Database: "shop", Confirm: "shop"}, true, ""},
		{"same server needs a user", RestoreRequest{Target: "same", Database: "x"}, false, "give a user with write access"},
		{"url needs a URL", RestoreRequest{Target: "url"}, false, "postgres://user:password@host"},
		{"unknown target", RestoreRequest{Target: "elsewhere"}, false, "is not a restore target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			to, replace, err := tc.req.target()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || replace != tc.replace || (tc.req.Target != "url") != to.SameServer || to.Password != tc.req.Password {
				t.Fatalf("target = %+v, replace %v, err %v", to, replace, err)
			}
		})
	}
}
