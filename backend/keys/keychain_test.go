package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

var ctx = context.Background()

// captureLogs routes slog.Default (used by the default Audit hook) to a buffer.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// recordAudit replaces Audit for one test and returns the events it saw.
func recordAudit(t *testing.T) *[]string {
	t.Helper()
	var events []string
	var mu sync.Mutex
	old := Audit
	Audit = func(_ context.Context, event string, fields map[string]string) error {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, event+" "+fields["key_id"]+" "+fields["old_key_id"])
		return nil
	}
	t.Cleanup(func() { Audit = old })
	return &events
}

// TestKeychainFirstRun runs against a real Secret Service (gnome-keyring on a
// private session bus): the first Open creates the key, later ones load it.
func TestKeychainFirstRun(t *testing.T) {
	kc := testenv.Keychain(t)
	t.Setenv(EnvKeyFile, "")
	logs := captureLogs(t)
	home := t.TempDir()

	if _, _, err := Open(ctx, Options{Home: home}); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("Open without CreateIfMissing on an empty keychain: %v, want ErrNoMasterKey", err)
	} else if !strings.Contains(err.Error(), "pgsafe key init") || !strings.Contains(err.Error(), "pgsafe key import") {
		t.Errorf("message %q should say how to get a key", err)
	}

	mk, src, err := Open(ctx, Options{Home: home, CreateIfMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	if src.Kind != SourceKeychain || src.Path != "" {
		t.Fatalf("source %v", src)
	}
	again, _, err := Open(ctx, Options{Home: t.TempDir()}) // another settings dir: same keychain
	if err != nil || !again.Equal(mk) || again.ID() != mk.ID() {
		t.Fatalf("second Open: %v, %v (want key %s)", again, err, mk.ID())
	}
	if third, _, err := Open(ctx, Options{Home: home, CreateIfMissing: true}); err != nil || !third.Equal(mk) {
		t.Fatalf("CreateIfMissing with a key present made another one: %v", err)
	}

	// The item is really in gnome-keyring, read back by libsecret's secret-tool,
	// encoded (not the raw bytes), with the key ID to catch damage.
	stored, ok := kc.Lookup(t, map[string]string{"service": KeychainService, "username": KeychainAccount})
	if !ok {
		t.Fatal("secret-tool does not find the PgSafe item")
	}
	wantPrefix := "pgsafe-master-key-v1:" + mk.ID().String() + ":"
	if !strings.HasPrefix(stored, wantPrefix) {
		t.Fatalf("stored value does not start with %q", wantPrefix)
	}
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(stored, wantPrefix)); err != nil || !bytes.Equal(raw, mk.Bytes()) {
		t.Fatalf("stored value does not decode to the key: %v", err)
	}
	if strings.Contains(stored, string(mk.Bytes())) {
		t.Fatal("raw key bytes stored")
	}

	// The key is in no log line (the creation is, by ID).
	for _, leak := range [][]byte{mk.Bytes(), []byte(hex.EncodeToString(mk.Bytes())), []byte(base64.StdEncoding.EncodeToString(mk.Bytes()))} {
		if bytes.Contains(logs.Bytes(), leak) {
			t.Fatalf("key material in the logs:\n%s", logs)
		}
	}
	if !strings.Contains(logs.String(), EventKeyCreated) || !strings.Contains(logs.String(), mk.ID().String()) {
		t.Errorf("creation not audited (default hook logs it):\n%s", logs)
	}
}

// TestKeychainConcurrentFirstRun: two first runs at once agree on one key.
func TestKeychainConcurrentFirstRun(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(EnvKeyFile, "")
	events := recordAudit(t)
	home := t.TempDir()
	var wg sync.WaitGroup
	got := make([]*MasterKey, 4)
	errs := make([]error, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _, errs[i] = Open(ctx, Options{Home: home, CreateIfMissing: true})
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || !got[i].Equal(got[0]) {
			t.Fatalf("Open %d: %v, %v; want %v", i, got[i], errs[i], got[0])
		}
	}
	if len(*events) != 1 {
		t.Fatalf("events %q, want one creation", *events)
	}
}

func TestKeychainDamagedItem(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(EnvKeyFile, "")
	mk, _ := NewMasterKey()
	other, _ := NewMasterKey()
	// A value whose ID does not match its key.
	bad := keychainPrefix(other) + base64.StdEncoding.EncodeToString(mk.Bytes())
	if err := keychainCall(ctx, "store", func() error { return keyringSet(bad) }); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(ctx, Options{Home: t.TempDir(), CreateIfMissing: true})
	if err == nil || !strings.Contains(err.Error(), "damaged") || errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("damaged item: %v", err)
	}
	if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(mk.Bytes())) {
		t.Fatal("error shows the stored key")
	}
}

// TestKeychainUnavailable: no Secret Service, no session bus, a locked
// collection: each is a *KeychainError that says what is wrong and what to do,
// and nothing falls back silently.
func TestKeychainUnavailable(t *testing.T) {
	check := func(t *testing.T, wantReason string) {
		t.Helper()
		t.Setenv(EnvKeyFile, "")
		_, _, err := Open(ctx, Options{Home: t.TempDir(), CreateIfMissing: true})
		var ke *KeychainError
		if !errors.As(err, &ke) || !errors.Is(err, ErrKeychainUnavailable) {
			t.Fatalf("err = %v, want a KeychainError", err)
		}
		msg := err.Error()
		for _, want := range []string{"the system keychain is not available", wantReason, "gnome-keyring", "pgsafe key init --key-file-protected FILE"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		t.Logf("%s", msg)
	}
	t.Run("no secret service", func(t *testing.T) {
		testenv.KeychainMissing(t)
		check(t, "no Secret Service on the session bus")
	})
	t.Run("no session bus", func(t *testing.T) {
		testenv.KeychainNoBus(t)
		check(t, "no D-Bus session bus")
	})
	t.Run("bus variable unset", func(t *testing.T) {
		testenv.KeychainNoBus(t)
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
		// godbus would next try /run/user/UID/bus: point that at an empty dir.
		old := userRuntimeDir
		empty := t.TempDir()
		userRuntimeDir = func() string { return empty }
		t.Cleanup(func() { userRuntimeDir = old })
		check(t, "DBUS_SESSION_BUS_ADDRESS is not set")
	})
	t.Run("locked", func(t *testing.T) {
		kc := testenv.Keychain(t)
		mk, _, err := Open(ctx, Options{Home: t.TempDir(), CreateIfMissing: true})
		if err != nil {
			t.Fatal(err)
		}
		kc.Lock(t)
		check(t, "the keychain is locked")
		kc.Unlock(t)
		if again, _, err := Open(ctx, Options{Home: t.TempDir()}); err != nil || !again.Equal(mk) {
			t.Fatalf("after unlock: %v", err)
		}
	})
}
