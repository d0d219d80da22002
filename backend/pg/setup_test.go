package pg

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

func TestScramVerifier(t *testing.T) {
	// RFC 7677's example: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==,
	// 4096 iterations; StoredKey and ServerKey as PostgreSQL stores them.
	salt := []byte{0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81}
	got, err := scramVerifierSalt("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	if got != want {
		t.Errorf("verifier\n%s, want\n%s", got, want)
	}
	a, b := GeneratePassword(), GeneratePassword()
	if len(a.Reveal()) != 26 || a.Reveal() == b.Reveal() || checkNewPassword(a.Reveal()) != nil {
		t.Errorf("generated passwords %d chars, equal %v", len(a.Reveal()), a.Reveal() == b.Reveal())
	}
	for _, bad := range []string{"short", "long enough but ünicode", "tab\tinside-password"} {
		if checkNewPassword(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// testSetup creates read-only roles with SetupReadOnly on p and checks them
// end to end: the audit as the new role, reads that work, a write that is
// refused, tables created after the setup by other roles, the refusal of a
// plan that leaves write access, and the rollback of a failed setup.
func testSetup(t *testing.T, p *testenv.PG) {
	p.Exec(t, "postgres", `CREATE ROLE shopowner NOLOGIN; CREATE ROLE etl NOLOGIN;`)
	fixture := func(t *testing.T, db string) {
		p.CreateDB(t, db)
		p.Exec(t, db, `
			CREATE SCHEMA sales AUTHORIZATION shopowner;
			GRANT CREATE ON DATABASE `+db+` TO shopowner;
			GRANT USAGE, CREATE ON SCHEMA sales TO etl;
			SET ROLE shopowner;
			CREATE TABLE sales.items (id serial PRIMARY KEY, name text);
			INSERT INTO sales.items (name) VALUES ('one'), ('two');
			RESET ROLE;
			CREATE TABLE public.misc (x int);
			INSERT INTO public.misc VALUES (1);
			SELECT lo_from_bytea(0, 'blob');`)
	}
	type variant struct {
		name       string
		opts       SetupOptions
		method     string
		verdict    Verdict
		codes      []string
		defaultFor []string // roles the per-schema plan sets default privileges for
	}
	var variants []variant
	if p.Major >= 14 {
		// The guided setup's defaults (the wizard's): PUBLIC keeps its
		// TEMPORARY, a note, and the role reads "read-only ✓".
		variants = append(variants, variant{name: "rad", opts: SetupOptions{}, method: MethodReadAllData,
			verdict: VerdictReadOnly, codes: []string{CodeDatabaseTemp, CodeLargeObjectCreate, CodeMemberOfReadAll}})
	}
	variants = append(variants, variant{name: "ps", opts: SetupOptions{PerSchema: true, RevokePublicTemp: true, RevokePublicCreate: p.Major < 15},
		method: MethodPerSchema, verdict: VerdictReadOnly, codes: []string{CodeLargeObjectCreate},
		defaultFor: []string{"etl", "postgres", "shopowner"}})

	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, role := "setup_"+v.name, "backup_"+v.name
			fixture(t, db)
			admin := superConfig(p, db)
			res, err := SetupReadOnly(ctx, admin, role, v.opts)
			if err != nil {
				t.Fatal(err)
			}
			plan, rep := res.Plan, res.Report
			t.Logf("plan:\n%s", plan.SQL())
			pw := plan.Password.Reveal()
			sql := plan.SQL()
			if plan.Method != v.method || len(pw) < 20 || strings.Contains(sql, pw) || !strings.Contains(sql, "PASSWORD 'SCRAM-SHA-256$4096:") {
				t.Errorf("method %s, password length %d, shown in SQL %v:\n%s", plan.Method, len(pw), strings.Contains(sql, pw), sql)
			}
			for _, r := range v.defaultFor {
				if !strings.Contains(sql, "ALTER DEFAULT PRIVILEGES FOR ROLE "+r+" GRANT SELECT ON TABLES TO "+role) {
					t.Errorf("no default privileges for %s:\n%s", r, sql)
				}
			}
			if got := slices.Sorted(slices.Values(rep.Codes())); rep.Verdict != v.verdict || !slices.Equal(got, v.codes) || len(rep.MissingRead) != 0 {
				t.Errorf("new role's audit: %s %v %+v, want %s %v", rep.Verdict, got, rep.MissingRead, v.verdict, v.codes)
			}
			if res.Config.User != role || res.Config.Password.Reveal() != pw || res.Config.Database != db {
				t.Errorf("result config %v", res.Config)
			}

			// Tables created after the setup, by the schema's owner, by a
			// role with CREATE on the schema, in a new schema, and by the
			// superuser, stay readable.
			p.Exec(t, db, `SET ROLE shopowner; CREATE TABLE sales.later (id int); CREATE SCHEMA reports;
				CREATE TABLE reports.r1 (id int); CREATE SEQUENCE reports.s1;
				SET ROLE etl; CREATE TABLE sales.etl_t (id int);
				RESET ROLE; CREATE TABLE public.after_admin (id int);`)
			conn, err := Connect(ctx, res.Config)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			for _, tbl := range []string{"sales.items", "public.misc", "sales.later", "reports.r1", "reports.s1", "sales.etl_t", "public.after_admin"} {
				var n int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
					t.Errorf("read %s as %s: %v", tbl, role, err)
				}
			}
			var blob []byte
			if err := conn.QueryRow(ctx, "SELECT lo_get(oid) FROM pg_largeobject_metadata").Scan(&blob); err != nil || string(blob) != "blob" {
				t.Errorf("read the large object: %q %v", blob, err)
			}
			tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadWrite})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, "INSERT INTO sales.items (name) VALUES ('three')")
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Errorf("INSERT as %s in a READ WRITE transaction: want permission denied, got %v", role, err)
			}
			tx.Rollback(ctx)
			again, err := Audit(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			if again.Verdict != v.verdict || len(again.MissingRead) != 0 {
				t.Errorf("after new tables: %s %+v", again.Verdict, again.MissingRead)
			}

			if _, err := SetupReadOnly(ctx, admin, role, v.opts); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("second setup of %s: %v", role, err)
			}
		})
	}

	t.Run("rollback", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db, role := "setup_rollback", "backup_rollback"
		fixture(t, db)
		p.Exec(t, db, "CREATE SCHEMA doomed")
		conn, err := Connect(ctx, superConfig(p, db))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		pw := NewSecret("a-password-typed-by-the-user")
		plan, err := SetupReadOnlySQL(ctx, conn, role, SetupOptions{PerSchema: true, Password: pw, RevokePublicCreate: true})
		if err != nil {
			t.Fatal(err)
		}
		p.Exec(t, db, "DROP SCHEMA doomed")
		err = RunSetup(ctx, conn, plan)
		var se *SetupError
		if !errors.As(err, &se) || se.Step != "grant USAGE on schema doomed" || !strings.Contains(err.Error(), "rolled back") {
			t.Fatalf("want a SetupError at the doomed schema, got %v", err)
		}
		if strings.Contains(err.Error(), pw.Reveal()) || strings.Contains(err.Error(), "SCRAM") {
			t.Errorf("the error shows the password or its verifier: %v", err)
		}
		if roleExists(t, p, role) {
			t.Errorf("role %s exists after the rollback", role)
		}
	})

	t.Run("write risk refused", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db, role := "setup_risky", "backup_risky"
		fixture(t, db)
		p.Exec(t, db, "GRANT CREATE ON SCHEMA public TO PUBLIC")
		_, err := SetupReadOnly(ctx, superConfig(p, db), role, SetupOptions{})
		if err == nil || !strings.Contains(err.Error(), "schema public") || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("want a refusal naming schema public, got %v", err)
		}
		if roleExists(t, p, role) {
			t.Fatalf("role %s was created despite the refusal", role)
		}
		res, err := SetupReadOnly(ctx, superConfig(p, db), role, SetupOptions{RevokePublicCreate: true})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(res.Report.Codes(), CodeSchemaCreate) || res.Report.Verdict == VerdictWriteAccess {
			t.Errorf("after revoking PUBLIC's CREATE: %s %v", res.Report.Verdict, res.Report.Codes())
		}
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		conn, err := Connect(ctx, superConfig(p, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for role, want := range map[string]string{"": "empty", "pg_backup": "reserved", strings.Repeat("x", 64): "63", "postgres": "already exists"} {
			if _, err := SetupReadOnlySQL(ctx, conn, role, SetupOptions{}); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("role %q: %v, want %q", role, err, want)
			}
		}
		if _, err := SetupReadOnlySQL(ctx, conn, "fine_name", SetupOptions{Password: NewSecret("short")}); err == nil || !strings.Contains(err.Error(), "12") {
			t.Errorf("short password: %v", err)
		}
	})
}

func roleExists(t *testing.T, p *testenv.PG, role string) bool {
	t.Helper()
	var n int
	if err := p.Conn(t, "postgres").QueryRow(context.Background(), "SELECT count(*) FROM pg_roles WHERE rolname = $1", role).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}
