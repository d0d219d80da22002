package pg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgpassfile"
	"github.com/jackc/pgservicefile"
)

// Candidate is a connection found in the user's ~/.pgpass or pg_service.conf,
// offered for import. It carries no password: Resolve reads it when the
// database is added.
type Candidate struct {
	Ref         string `json:"ref"`    // "service:NAME" or "pgpass:N"
	Source      string `json:"source"` // the file it came from
	Label       string `json:"label"`  // the service name, or user@host/db
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Database    string `json:"database"`
	User        string `json:"user"`
	SSLMode     string `json:"sslmode,omitempty"`
	HasPassword bool   `json:"hasPassword"`
}

// serviceFile is where libpq looks for the user's services.
func serviceFile() string {
	if p := os.Getenv("PGSERVICEFILE"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".pg_service.conf")
}

// passFile is where libpq looks for the user's passwords.
func passFile() string {
	if p := os.Getenv("PGPASSFILE"); p != "" {
		return p
	}
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("APPDATA"), "postgresql", "pgpass.conf")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".pgpass")
}

// ImportCandidates lists the connections of the user's service file and
// passfile (wildcard entries, which name no single database, are left out).
// Missing files give no candidates; unreadable ones are reported.
func ImportCandidates() ([]Candidate, error) {
	var out []Candidate
	var errs []error
	pass, perr := readPass()
	if perr != nil {
		errs = append(errs, perr)
	}
	if sf, err := pgservicefile.ReadServicefile(serviceFile()); err == nil {
		for _, s := range sf.Services {
			c := serviceCandidate(s, pass)
			out = append(out, c)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("read %s: %w", serviceFile(), err))
	}
	if pass != nil {
		for i, e := range pass.Entries {
			if e.Hostname == "*" || e.Database == "*" || e.Username == "*" {
				continue
			}
			port, _ := strconv.Atoi(e.Port)
			out = append(out, Candidate{Ref: "pgpass:" + strconv.Itoa(i), Source: passFile(),
				Label: fmt.Sprintf("%s@%s/%s", e.Username, e.Hostname, e.Database),
				Host:  e.Hostname, Port: port, Database: e.Database, User: e.Username, HasPassword: e.Password != ""})
		}
	}
	return out, errors.Join(errs...)
}

func readPass() (*pgpassfile.Passfile, error) {
	pf, err := pgpassfile.ReadPassfile(passFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", passFile(), err)
	}
	return pf, nil
}

func serviceCandidate(s *pgservicefile.Service, pass *pgpassfile.Passfile) Candidate {
	get := func(k string) string { return s.Settings[k] }
	port, _ := strconv.Atoi(get("port"))
	c := Candidate{Ref: "service:" + s.Name, Source: serviceFile(), Label: s.Name, Host: get("host"), Port: port,
		Database: get("dbname"), User: get("user"), SSLMode: get("sslmode"), HasPassword: get("password") != ""}
	if !c.HasPassword && pass != nil {
		c.HasPassword = pass.FindPassword(c.Host, strconv.Itoa(max(c.Port, 0)), c.Database, c.User) != ""
	}
	return c
}

// ResolveCandidate returns the connection of a candidate, with its password
// (from the service entry, else from the passfile).
func ResolveCandidate(ref string) (Config, error) {
	kind, key, _ := strings.Cut(ref, ":")
	pass, err := readPass()
	if err != nil {
		return Config{}, err
	}
	switch kind {
	case "service":
		sf, err := pgservicefile.ReadServicefile(serviceFile())
		if err != nil {
			return Config{}, fmt.Errorf("read %s: %w", serviceFile(), err)
		}
		s, err := sf.GetService(key)
		if err != nil {
			return Config{}, fmt.Errorf("service %q is no longer in %s", key, serviceFile())
		}
		c := serviceCandidate(s, nil)
		pw := s.Settings["password"]
		if pw == "" && pass != nil {
			port := c.Port
			if port == 0 {
				port = 5432
			}
			pw = pass.FindPassword(c.Host, strconv.Itoa(port), c.Database, c.User)
		}
		return Config{Host: c.Host, Port: c.Port, Database: c.Database, User: c.User, Password: NewSecret(pw),
			SSLMode: SSLMode(c.SSLMode), SSLRootCert: s.Settings["sslrootcert"], SSLCert: s.Settings["sslcert"], SSLKey: s.Settings["sslkey"]}, nil
	case "pgpass":
		i, err := strconv.Atoi(key)
		if err != nil || pass == nil || i < 0 || i >= len(pass.Entries) {
			return Config{}, fmt.Errorf("entry %s is no longer in %s", key, passFile())
		}
		e := pass.Entries[i]
		port, _ := strconv.Atoi(e.Port)
		return Config{Host: e.Hostname, Port: port, Database: e.Database, User: e.Username, Password: NewSecret(e.Password)}, nil
	}
	return Config{}, fmt.Errorf("unknown import reference %q", ref)
}
