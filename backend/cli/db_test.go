package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pg"
)

func runIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(&Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// roleURL is p's URL for db as user/password.
func roleURL(p *testenv.PG, db, user, password string) string {
	u, _ := url.Parse(p.URL(db))
	u.User = url.UserPassword(user, password)
	return u.String()
}

func TestDBCommands(t *testing.T) {
	newMachine(t)
	if code, _, errOut := runIn(t, "", "key", "init"); code != 0 {
		t.Fatalf("key init: %s", errOut)
	}
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE public.items (id int); CREATE TABLE public.secret (id int);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-5521'; GRANT SELECT ON public.items, public.secret TO reader;
		CREATE ROLE partial LOGIN PASSWORD 'reader-pw-5521'; GRANT SELECT ON public.items TO partial;
		REVOKE TEMPORARY ON DATABASE shop FROM PUBLIC;`)
	secrets := []string{p.Password, "reader-pw-5521"}
	noSecrets := func(t *testing.T, outs ...string) {
		t.Helper()
		for _, o := range outs {
			for _, s := range secrets {
				if strings.Contains(o, s) {
					t.Errorf("output shows a password:\n%s", o)
				}
			}
		}
	}
	oneLine := func(t *testing.T, stderr string) {
		t.Helper()
		if !strings.HasPrefix(stderr, "pgsafe: ") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("stderr %q, want one line starting with 'pgsafe: '", stderr)
		}
	}

	t.Run("check read-only", func(t *testing.T) {
		code, out, errOut := runIn(t, "", "db", "check", "--url", roleURL(p, "shop", "reader", "reader-pw-5521"), "--json")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
		}
		if len(doc) != 3 || string(doc["verdict"]) != `"read_only"` || string(doc["missing_read"]) != "[]" {
			t.Errorf("JSON %s", out)
		}
		var rep pg.Report
		json.Unmarshal([]byte(out), &rep)
		if len(rep.Findings) != 1 || rep.Findings[0].Code != pg.CodeLargeObjectCreate || rep.Findings[0].FixSQL == "" {
			t.Errorf("findings %+v", rep.Findings)
		}
		code, human, _ := runIn(t, "", "db", "check", "--url", roleURL(p, "shop", "reader", "reader-pw-5521"))
		if code != 0 || !strings.Contains(human, "Role reader on reader@127.0.0.1:") || !strings.Contains(human, "read-only ✓") {
			t.Errorf("human output (exit %d):\n%s", code, human)
		}
		noSecrets(t, out, human)
	})

	t.Run("check missing read", func(t *testing.T) {
		code, out, errOut := runIn(t, "", "db", "check", "--url", roleURL(p, "shop", "partial", "reader-pw-5521"))
		if code != 0 || errOut != "" || !strings.Contains(out, "read-only, with warnings") ||
			!strings.Contains(out, "table public.secret (SELECT)") || !strings.Contains(out, "GRANT SELECT ON TABLE public.secret TO partial;") {
			t.Errorf("exit %d, stderr %q:\n%s", code, errOut, out)
		}
	})

	t.Run("check write access", func(t *testing.T) {
		code, out, errOut := runIn(t, "", "db", "check", "--url", p.URL("shop"), "--json")
		if code != exitWriteAccess {
			t.Errorf("exit %d, want %d", code, exitWriteAccess)
		}
		var rep pg.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Verdict != pg.VerdictWriteAccess {
			t.Errorf("JSON %v: %s", err, out)
		}
		oneLine(t, errOut)
		if !strings.Contains(errOut, "write access") {
			t.Errorf("stderr %q", errOut)
		}
		noSecrets(t, out, errOut)
	})

	t.Run("check errors", func(t *testing.T) {
		cases := map[string][]string{
			"wrong password":  {"db", "check", "--url", roleURL(p, "shop", "reader", "not-the-password")},
			"bad url":         {"db", "check", "--url", "postgres://reader:" + p.Password + "@127.0.0.1:notaport/shop"},
			"no url":          {"db", "check"},
			"unsupported key": {"db", "check", "--url", p.URL("shop") + "&options=-c%20default_transaction_read_only%3Doff"},
		}
		wants := map[string]string{"wrong password": "password", "bad url": "not valid", "no url": "--url", "unsupported key": "options"}
		for name, args := range cases {
			code, out, errOut := runIn(t, "", args...)
			if code != 1 || out != "" {
				t.Errorf("%s: exit %d, stdout %q", name, code, out)
			}
			oneLine(t, errOut)
			if !strings.Contains(errOut, wants[name]) {
				t.Errorf("%s: stderr %q lacks %q", name, errOut, wants[name])
			}
			if last := args[len(args)-1]; strings.Contains(last, "://") && (strings.Contains(errOut, last) || strings.Contains(errOut, "reader:")) {
				t.Errorf("%s: stderr shows the URL: %q", name, errOut)
			}
			noSecrets(t, errOut)
		}
	})

	t.Run("setup print-sql", func(t *testing.T) {
		code, out, errOut := runIn(t, "", "db", "setup-readonly", "--url", p.URL("shop"), "--role", "printed_only", "--print-sql")
		if code != 0 || !strings.HasPrefix(out, "-- PgSafe: read-only backup role printed_only") || !strings.Contains(out, "GRANT pg_read_all_data TO printed_only;") {
			t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, out)
		}
		if !strings.Contains(errOut, "password (shown once") {
			t.Errorf("the generated password is not shown: %q", errOut)
		}
		pw := strings.TrimSpace(errOut[strings.LastIndex(errOut, ": ")+2:])
		if len(pw) < 20 || strings.Contains(out, pw) {
			t.Errorf("password %q, in the SQL: %v", pw, strings.Contains(out, pw))
		}
		code, js, _ := runIn(t, "", "db", "setup-readonly", "--url", p.URL("shop"), "--role", "printed_only", "--print-sql", "--json")
		var doc setupJSON
		if err := json.Unmarshal([]byte(js), &doc); code != 0 || err != nil || doc.Executed || doc.Password == "" || doc.Check != nil || !strings.Contains(doc.SQL, "CREATE ROLE printed_only") {
			t.Errorf("exit %d, %v: %s", code, err, js)
		}
		if roleExistsCLI(t, p, "printed_only") {
			t.Error("--print-sql created the role")
		}
		noSecrets(t, out, errOut, js)
	})

	t.Run("setup runs", func(t *testing.T) {
		code, out, errOut := runIn(t, "", "db", "setup-readonly", "--url", p.URL("shop"), "--role", "pgsafe_backup", "--json")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
		}
		var doc setupJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil || !doc.Executed || doc.Check == nil || doc.Check.Verdict != pg.VerdictReadOnly || len(doc.Password) < 20 {
			t.Fatalf("%v: %s", err, out)
		}
		conn, err := pgx.Connect(context.Background(), roleURL(p, "shop", "pgsafe_backup", doc.Password))
		if err != nil {
			t.Fatalf("connect with the printed password: %v", err)
		}
		conn.Close(context.Background())
		noSecrets(t, out, errOut)

		// A password from stdin is not printed back.
		const typed = "typed-on-stdin-pw-4471"
		code, human, errOut := runIn(t, typed+"\n", "db", "setup-readonly", "--url", p.URL("shop"), "--role", "pgsafe_backup2", "--password-stdin")
		if code != 0 || strings.Contains(human, typed) || !strings.Contains(human, "Created role pgsafe_backup2") || !strings.Contains(human, "read-only ✓") {
			t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, human)
		}
		conn, err = pgx.Connect(context.Background(), roleURL(p, "shop", "pgsafe_backup2", typed))
		if err != nil {
			t.Fatalf("connect with the typed password: %v", err)
		}
		conn.Close(context.Background())

		code, _, errOut = runIn(t, "", "db", "setup-readonly", "--url", p.URL("shop"), "--role", "pgsafe_backup")
		oneLine(t, errOut)
		if code != 1 || !strings.Contains(errOut, "already exists") {
			t.Errorf("second run: exit %d, %q", code, errOut)
		}
		code, _, errOut = runIn(t, "", "db", "setup-readonly", "--url", p.URL("shop"), "--role", "x", "--password-stdin")
		if code != 1 || !strings.Contains(errOut, "stdin") {
			t.Errorf("empty stdin: exit %d, %q", code, errOut)
		}

		// Audited like the window's guided setup: both roles created, the
		// second attempt refused; --print-sql changed nothing, so is not there.
		e, err := engine.Open(context.Background(), engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		recs, err := e.Audit().List(context.Background(), audit.Filter{ActionPrefix: "database.readonly_role"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Action+" "+r.Target)
		}
		slices.Sort(got)
		want := []string{"database.readonly_role_created pgsafe_backup", "database.readonly_role_created pgsafe_backup2", "database.readonly_role_failed pgsafe_backup"}
		if !slices.Equal(got, want) {
			t.Errorf("audit log %q, want %q", got, want)
		}
	})
}

func roleExistsCLI(t *testing.T, p *testenv.PG, role string) bool {
	t.Helper()
	var n int
	if err := p.Conn(t, "postgres").QueryRow(context.Background(), "SELECT count(*) FROM pg_roles WHERE rolname = $1", role).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}
