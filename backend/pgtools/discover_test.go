package pgtools

import (
	"testing"
)

func TestParseVersion(t *testing.T) {
	cases := []struct {
		in   string
		want Version
	}{
		{"pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", Version{Major: 15, Minor: 18}},
		{"pg_restore (PostgreSQL) 17.2", Version{Major: 17, Minor: 2}},
		{"pg_dump (PostgreSQL) 9.6.24", Version{Major: 9, Minor: 6}},
		{"pg_dump (PostgreSQL) 18beta1", Version{Major: 18, Suffix: "beta1"}},
		{"pg_dump (PostgreSQL) 19devel", Version{Major: 19, Suffix: "devel"}},
	}
	for _, c := range cases {
		got, err := ParseVersion(c.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseVersion(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "mysqldump  Ver 8.0", "pg_dump 15"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded, want error", bad)
		}
	}
}
