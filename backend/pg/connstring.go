package pg

import (
	"errors"
	"net/url"
	"strings"
)

// connSettings lists the settings a connection string names, as libpq
// spells them, for the few that pgx resolves into other shapes (the SSL file
// names and mode): pgx itself parses the string and resolves host, port,
// database, user and password. A URI's settings come from net/url; a
// key=value string is split by libpq's rules (values in single quotes, with
// backslash escapes).
func connSettings(s string) (map[string]string, error) {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		return uriSettings(s)
	}
	if strings.Contains(s, "://") {
		return nil, errors.New("the connection URL must start with postgres:// or postgresql://")
	}
	return keywordSettings(s)
}

func uriSettings(s string) (map[string]string, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url's error quotes the URL, password included: say less.
		return nil, errors.New("the connection URL is not valid: check its form, e.g. postgres://user:password@host:5432/dbname?sslmode=require (characters such as @ : / in the password must be percent-encoded)")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("the connection URL's ?settings are not valid: use name=value pairs joined by &")
	}
	out := map[string]string{}
	for k, vs := range q {
		k = strings.ToLower(k)
		if k == "ssl" && len(vs) > 0 && vs[len(vs)-1] == "true" { // libpq's alias
			k, vs = "sslmode", []string{"require"}
		}
		if len(vs) > 0 {
			out[k] = vs[len(vs)-1]
		}
	}
	if u.User != nil {
		out["user"] = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			out["password"] = pw
		}
	}
	if u.Host != "" {
		out["host"] = u.Hostname()
		if p := u.Port(); p != "" {
			out["port"] = p
		}
		if strings.Count(u.Host, ",") > 0 {
			out["host"] = u.Host
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		out["dbname"] = db
	}
	return out, nil
}

func keywordSettings(s string) (map[string]string, error) {
	bad := errors.New("the connection settings are not valid: use name=value pairs separated by spaces, e.g. host=db.example.com port=5432 dbname=shop user=backup (quote values with spaces in single quotes)")
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\n\r\v\f")
		if s == "" {
			return out, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, bad
		}
		key := strings.TrimSpace(s[:eq])
		if key == "" || strings.ContainsAny(key, " \t\n\r\v\f") {
			return nil, bad
		}
		s = strings.TrimLeft(s[eq+1:], " \t\n\r\v\f")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for len(s) > 0 && !closed {
				switch c := s[0]; {
				case c == '\\' && len(s) > 1:
					val.WriteByte(s[1])
					s = s[2:]
				case c == '\'':
					closed = true
					s = s[1:]
				default:
					val.WriteByte(c)
					s = s[1:]
				}
			}
			if !closed {
				return nil, bad
			}
		} else {
			for len(s) > 0 && !strings.ContainsRune(" \t\n\r\v\f", rune(s[0])) {
				if s[0] == '\\' && len(s) > 1 {
					val.WriteByte(s[1])
					s = s[2:]
					continue
				}
				val.WriteByte(s[0])
				s = s[1:]
			}
		}
		if key == "database" { // pgx's alias
			key = "dbname"
		}
		out[key] = val.String()
	}
}
