package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// Environment of the writer child process (see TestMain).
const (
	envChild = "PGSAFE_STORE_TEST_WRITER"
	envPath  = "PGSAFE_STORE_TEST_PATH"
	envKey   = "PGSAFE_STORE_TEST_KEY"
	envN     = "PGSAFE_STORE_TEST_N"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envChild); name != "" {
		if err := childWriter(name); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childWriter is another PgSafe process (the CLI next to the app) writing to
// the same settings database.
func childWriter(name string) error {
	raw, err := hex.DecodeString(os.Getenv(envKey))
	if err != nil {
		return err
	}
	mk, err := keys.MasterKeyFromBytes(raw)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(os.Getenv(envN))
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(envPath), mk)
	if err != nil {
		return err
	}
	defer s.Close()
	return writeMany(ctx, s, name, n)
}

// writeMany creates n databases, updates each, and races for one shared name.
func writeMany(ctx context.Context, s *Store, name string, n int) error {
	for i := range n {
		id, err := s.CreateDatabase(ctx, sampleDatabase(fmt.Sprintf("%s-%d", name, i)))
		if err != nil {
			return err
		}
		c, err := s.DatabaseCredentials(ctx, id)
		if err != nil {
			return err
		}
		c.Port = 6000 + i
		if _, err := s.UpdateDatabase(ctx, id, c); err != nil {
			return err
		}
		if _, err := s.SetSetting(ctx, "last."+name, strconv.Itoa(i)); err != nil {
			return err
		}
		if _, err := s.CreateDatabase(ctx, sampleDatabase(fmt.Sprintf("contested-%d", i))); err != nil && !errors.As(err, new(*ConflictError)) {
			return err
		}
	}
	return nil
}

// TestConcurrentWriters: goroutines of one process and two other processes
// write at once; every write lands, none fails with "database is locked", and
// the name check holds across processes (each contested name exists once).
func TestConcurrentWriters(t *testing.T) {
	const (
		goroutines = 4
		procs      = 2
		n          = 15
	)
	ctx := context.Background()
	s, mk := openTemp(t)

	var cmds []*exec.Cmd
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"=proc"+strconv.Itoa(p), envPath+"="+s.Path(),
			envKey+"="+hex.EncodeToString(mk.Bytes()), envN+"="+strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- writeMany(ctx, s, "g"+strconv.Itoa(g), n)
		}()
	}
	// Readers at the same time, as the UI polls.
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Databases(ctx); err != nil {
				readErr <- err
				return
			}
			// The anchor check runs while other processes write: never a
			// false alarm.
			if err := s.CheckIntegrity(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process: %v", err)
		}
	}
	close(stop)
	if err := <-readErr; err != nil {
		t.Errorf("reader: %v", err)
	}

	dbs, err := s.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, d := range dbs {
		names[d.Name]++
	}
	if want := (goroutines+procs)*n + n; len(dbs) != want {
		t.Fatalf("%d databases, want %d", len(dbs), want)
	}
	for name, c := range names {
		if c != 1 {
			t.Errorf("name %q stored %d times", name, c)
		}
	}
	for i := range n {
		if names[fmt.Sprintf("contested-%d", i)] != 1 {
			t.Errorf("contested-%d missing", i)
		}
	}
	settings, _ := s.Settings(ctx)
	if settings["last.proc1"] != strconv.Itoa(n-1) || settings["last.g3"] != strconv.Itoa(n-1) {
		t.Fatalf("settings = %v", settings)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
}
