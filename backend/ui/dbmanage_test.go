package ui

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/paths"
)

// The edit form gets the stored connection without its password; a new
// password is tested before it is saved; a check that hangs is cancelled.
func TestManageDatabase(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(paths.EnvHome, t.TempDir())
	c := NewCore(nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	s := NewDatabaseService(c)
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE t (id int); CREATE ROLE reader LOGIN PASSWORD 'ui-reader-pw-5'; GRANT SELECT ON t TO reader;`)
	form := DatabaseForm{Name: "shop", Host: "127.0.0.1", Port: srv.Port, DBName: "shop", User: "reader", Password: "ui-reader-pw-5", SSLMode: "disable", CountRows: true}
	if _, err := s.Add(form, false); err != nil {
		t.Fatal(err)
	}

	v, err := s.Connection("shop")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(v)
	if strings.Contains(string(js), "ui-reader-pw-5") || !v.PasswordSet || v.User != "reader" || v.Verdict != "read_only" || v.CheckedAt == nil || v.WriteAccess != "" {
		t.Fatalf("connection view %s", js)
	}

	// The form comes back with the password empty: the stored one is used.
	edit := DatabaseForm{Host: v.Host, Port: v.Port, DBName: v.DBName, User: v.User, SSLMode: v.SSLMode}
	if _, err := s.TestChange("shop", edit); err != nil {
		t.Fatalf("test with the stored password: %v", err)
	}
	srv.Exec(t, "shop", `ALTER ROLE reader PASSWORD 'ui-reader-pw-6'`)
	edit.Password = "ui-reader-pw-wrong"
	if _, err := s.Update("shop", edit, false); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("a wrong password: %v", err)
	}
	edit.Password = "ui-reader-pw-6"
	res, err := s.Update("shop", edit, false)
	if err != nil || len(res.Changed) != 1 || res.Changed[0] != "password" {
		t.Fatalf("the right password: %+v, %v", res, err)
	}
	if res, err := s.Rename("shop", "  Shop main "); err != nil || res.Name != "Shop main" {
		t.Fatalf("rename: %+v, %v", res, err)
	}
	if err := s.SetCountRows("Shop main", false); err != nil {
		t.Fatal(err)
	}
	srv.Exec(t, "shop", `GRANT INSERT ON t TO reader`)
	if chk, err := s.Recheck("Shop main"); err != nil || chk.Report.Verdict != "write_access" {
		t.Fatalf("re-check after a GRANT: %+v, %v", chk, err)
	}
	if v, err := s.Connection("Shop main"); err != nil || v.CountRows || v.WriteAccess != "found" {
		t.Fatalf("after the rename and row counts off: %+v, %v", v, err)
	}

	// A host that accepts the connection and never answers: the check
	// waits until the window cancels it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hang := DatabaseForm{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, DBName: "shop", User: "reader", SSLMode: "disable"}
	done := make(chan error, 1)
	go func() {
		_, err := s.TestChange("Shop main", hang)
		done <- err
	}()
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s.CancelCheck("Shop main")
	if err := <-done; err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("a cancelled check: %v", err)
	}
	// The add wizard's test of a database not saved yet, the same way.
	go func() {
		_, err := s.Test(hang)
		done <- err
	}()
	conn2, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	s.CancelCheck(NewDatabaseCheck)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("a cancelled test of a new database: %v", err)
	}
	if err := s.Remove("Shop main"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Connection("Shop main"); err == nil {
		t.Fatal("a removed database still has a connection")
	}
}
