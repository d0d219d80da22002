package testenv

import (
	"errors"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

func TestKeychain(t *testing.T) {
	k := Keychain(t)
	if !strings.HasPrefix(k.BusAddress, "unix:path=") {
		t.Fatalf("BusAddress = %q", k.BusAddress)
	}
	const service, user = "pgsafe-testenv", "master-key"
	secret := "s3cret-" + randomHex(8)

	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get before Set: err = %v, want ErrNotFound", err)
	}
	if err := keyring.Set(service, user, secret); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := keyring.Get(service, user)
	if err != nil || got != secret {
		t.Fatalf("Get = %q, %v; want %q", got, err, secret)
	}
	// The secret is really in gnome-keyring: libsecret's secret-tool finds it
	// on the same bus.
	if v, ok := k.Lookup(t, map[string]string{"service": service, "username": user}); !ok || v != secret {
		t.Fatalf("secret-tool lookup = %q, %v; want %q", v, ok, secret)
	}

	k.Lock(t)
	_, err = keyring.Get(service, user)
	if err == nil || !strings.Contains(err.Error(), "failed to unlock") {
		t.Fatalf("Get with the keychain locked: err = %v, want an unlock failure", err)
	}
	t.Logf("locked keychain: %v", err)
	k.Unlock(t)
	if got, err := keyring.Get(service, user); err != nil || got != secret {
		t.Fatalf("Get after Unlock = %q, %v; want %q", got, err, secret)
	}

	if err := keyring.Delete(service, user); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if v, ok := k.Lookup(t, map[string]string{"service": service, "username": user}); ok {
		t.Fatalf("secret-tool still finds %q after Delete", v)
	}
}

func TestKeychainMissing(t *testing.T) {
	KeychainMissing(t)
	err := keyring.Set("pgsafe-testenv", "u", "p")
	if err == nil || !strings.Contains(err.Error(), "org.freedesktop.secrets") {
		t.Fatalf("Set without a Secret Service: err = %v, want org.freedesktop.secrets not provided", err)
	}
	t.Logf("no Secret Service: %v", err)
}

func TestKeychainNoBus(t *testing.T) {
	KeychainNoBus(t)
	_, err := keyring.Get("pgsafe-testenv", "u")
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("Get without a session bus: err = %v, want a dial error", err)
	}
	t.Logf("no session bus: %v", err)
}
