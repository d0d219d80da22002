package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	secretsName      = "org.freedesktop.secrets"
	secretsPath      = dbus.ObjectPath("/org/freedesktop/secrets")
	secretsIface     = "org.freedesktop.Secret.Service"
	collectionIface  = "org.freedesktop.Secret.Collection"
	loginCollection  = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	gnomeKeyringHint = "gnome-keyring"
)

// KeychainEnv is a private D-Bus session bus, with (Keychain) or without
// (KeychainMissing) gnome-keyring-daemon serving the Secret Service on it.
type KeychainEnv struct {
	// BusAddress is the bus's address, also set as DBUS_SESSION_BUS_ADDRESS
	// for the rest of the test.
	BusAddress string
	// Home is the temporary HOME (and parent of XDG_DATA_HOME,
	// XDG_RUNTIME_DIR) set for the rest of the test; gnome-keyring keeps its
	// keyrings in Home/.local/share/keyrings.
	Home string
	// Password unlocks the "login" collection (empty for KeychainMissing).
	Password string

	bus     *proc
	keyring *proc // nil for KeychainMissing
}

// Keychain starts a private D-Bus session bus (dbus-daemon with its own config
// in a temp dir, no service activation) running gnome-keyring-daemon with the
// secrets component and an unlocked "login" collection. It sets
// DBUS_SESSION_BUS_ADDRESS, HOME, XDG_DATA_HOME, XDG_CONFIG_HOME and
// XDG_RUNTIME_DIR (t.Setenv) so that go-keyring talks to it, and stops both
// daemons at cleanup. Tests that use it cannot run in parallel.
func Keychain(t testing.TB) *KeychainEnv {
	t.Helper()
	k := startBus(t)
	keyringBin := systemTool(t, "gnome-keyring-daemon", gnomeKeyringHint, "/usr/bin/gnome-keyring-daemon")
	k.Password = randomHex(12)

	cmd := exec.Command(keyringBin, "--foreground", "--unlock", "--components=secrets",
		"--control-directory="+filepath.Join(k.Home, "run", "keyring"))
	cmd.Env = k.env()
	cmd.Stdin = strings.NewReader(k.Password) // --unlock reads it up to EOF
	cmd.Dir = k.Home
	k.keyring = startProc(t, "gnome-keyring-daemon", cmd, nil)

	// Ready when the service owns its name and the login collection exists
	// unlocked (gnome-keyring creates it from the --unlock password).
	// The first call on the connection is a method, OpenSession, as
	// go-keyring's is: gnome-keyring aborts (a GLib assertion in
	// invoke_get_property_in_idle_cb, "assertion 'client' failed") when a
	// connection's first message is a property read that it handles before
	// it has registered the caller, a race seen in CI under load.
	conn := k.dial(t)
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	var session dbus.ObjectPath
	for session == "" {
		var out dbus.Variant
		err := conn.Object(secretsName, secretsPath).Call(secretsIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session)
		if err == nil {
			break
		}
		if k.keyring.exited() {
			t.Fatalf("testenv: gnome-keyring-daemon did not start: %s", k.keyring.describeExit())
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: gnome-keyring-daemon serves no Secret Service after 10s (%v); %s", err, k.keyring.describeExit())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for {
		locked, err := collectionLocked(conn, loginCollection)
		if err == nil && !locked {
			break
		}
		if k.keyring.exited() {
			t.Fatalf("testenv: gnome-keyring-daemon did not start: %s", k.keyring.describeExit())
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: gnome-keyring-daemon has no unlocked login collection after 10s (locked=%v, err=%v); %s",
				locked, err, k.keyring.describeExit())
		}
		time.Sleep(10 * time.Millisecond)
	}
	conn.Object(secretsName, session).Call("org.freedesktop.Secret.Session.Close", 0)
	return k
}

// KeychainMissing starts a private session bus where nothing provides the
// Secret Service, and points DBUS_SESSION_BUS_ADDRESS (and HOME etc., as
// Keychain does) at it. go-keyring then fails with "The name
// org.freedesktop.secrets was not provided by any .service files".
func KeychainMissing(t testing.TB) *KeychainEnv {
	t.Helper()
	return startBus(t)
}

// KeychainNoBus points DBUS_SESSION_BUS_ADDRESS at a socket that does not
// exist (and sets a temporary HOME etc.), as on a machine without a session
// bus. go-keyring then fails with "dial unix …: no such file or directory".
// It returns the address set.
func KeychainNoBus(t testing.TB) string {
	t.Helper()
	home := tempDir(t, "nobus", nil)
	addr := "unix:path=" + filepath.Join(home, "no-such-bus")
	setKeychainEnv(t, home, addr)
	return addr
}

// Lock locks the login collection, as after a screen lock or a timeout:
// go-keyring calls then fail ("failed to unlock correct collection …"),
// because no prompter is reachable on the private bus to ask for the password.
func (k *KeychainEnv) Lock(t testing.TB) {
	t.Helper()
	k.requireKeyring(t)
	conn := k.dial(t)
	defer conn.Close()
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err := conn.Object(secretsName, secretsPath).Call(secretsIface+".Lock", 0, []dbus.ObjectPath{loginCollection}).Store(&locked, &prompt)
	if err != nil {
		t.Fatalf("testenv: locking the keychain: %v", err)
	}
	if is, err := collectionLocked(conn, loginCollection); err != nil || !is {
		t.Fatalf("testenv: keychain still unlocked after Lock (locked=%v, err=%v, prompt=%s)", is, err, prompt)
	}
}

// Unlock unlocks the login collection again with Password, without a prompt
// (gnome-keyring's UnlockWithMasterPassword).
func (k *KeychainEnv) Unlock(t testing.TB) {
	t.Helper()
	k.requireKeyring(t)
	conn := k.dial(t)
	defer conn.Close()
	svc := conn.Object(secretsName, secretsPath)
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := svc.Call(secretsIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		t.Fatalf("testenv: opening a Secret Service session: %v", err)
	}
	secret := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte(k.Password), "text/plain"}
	err := svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0,
		loginCollection, secret).Err
	if err != nil {
		t.Fatalf("testenv: unlocking the keychain: %v", err)
	}
	if is, err := collectionLocked(conn, loginCollection); err != nil || is {
		t.Fatalf("testenv: keychain still locked after Unlock (locked=%v, err=%v)", is, err)
	}
}

// StopKeyring stops gnome-keyring-daemon early, leaving the bus up, as when
// the keychain daemon crashes.
func (k *KeychainEnv) StopKeyring(t testing.TB) {
	t.Helper()
	k.requireKeyring(t)
	k.keyring.stop(syscall.SIGTERM, 5*time.Second)
}

// Lookup reads a secret by its attributes with secret-tool (libsecret), not
// through go-keyring: proof that a secret really is in the keychain. go-keyring
// stores items with the attributes "service" and "username". ok is false if no
// item matches.
func (k *KeychainEnv) Lookup(t testing.TB, attrs map[string]string) (secret string, ok bool) {
	t.Helper()
	tool := systemTool(t, "secret-tool", "libsecret-tools", "/usr/bin/secret-tool")
	args := []string{"lookup"}
	for name, value := range attrs {
		args = append(args, name, value)
	}
	cmd := exec.Command(tool, args...)
	cmd.Env = k.env()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		// secret-tool lookup exits 1 without output when nothing matches.
		if errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0 {
			return "", false
		}
		t.Fatalf("testenv: secret-tool %v: %v: %s", args, err, stderr.String())
	}
	return string(out), true
}

func (k *KeychainEnv) requireKeyring(t testing.TB) {
	t.Helper()
	if k.keyring == nil {
		t.Fatalf("testenv: this KeychainEnv has no keyring daemon (KeychainMissing)")
	}
}

// env is the environment for processes that should use this keychain.
func (k *KeychainEnv) env() []string {
	return append(os.Environ(),
		"DBUS_SESSION_BUS_ADDRESS="+k.BusAddress,
		"HOME="+k.Home,
		"XDG_DATA_HOME="+filepath.Join(k.Home, ".local", "share"),
		"XDG_CONFIG_HOME="+filepath.Join(k.Home, ".config"),
		"XDG_RUNTIME_DIR="+filepath.Join(k.Home, "run"),
	)
}

// dial opens a private connection to the bus.
func (k *KeychainEnv) dial(t testing.TB) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(k.BusAddress)
	if err != nil {
		t.Fatalf("testenv: connecting to the test bus %s: %v", k.BusAddress, err)
	}
	return conn
}

// startBus starts dbus-daemon with a private config and sets the environment.
func startBus(t testing.TB) *KeychainEnv {
	t.Helper()
	daemon := systemTool(t, "dbus-daemon", "dbus", "/usr/bin/dbus-daemon")
	home := tempDir(t, "bus", nil)
	for _, d := range []string{".local/share", ".config", "run"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	// No <servicedir> and no <standard_session_servicedirs/>: nothing is
	// auto-started on this bus, so a missing service stays missing.
	config := fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`, filepath.Join(home, "bus"))
	configPath := filepath.Join(home, "bus.conf")
	writeFile(t, configPath, []byte(config), 0o600, nil)

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer pr.Close()
	cmd := exec.Command(daemon, "--config-file="+configPath, "--nofork", "--nopidfile", "--nosyslog", "--print-address=1")
	cmd.Stdout = pw
	cmd.Dir = home
	bus := startProc(t, "dbus-daemon", cmd, nil)
	pw.Close()

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	var addr string
	select {
	case addr = <-lines:
	case <-time.After(10 * time.Second):
	}
	if addr == "" {
		t.Fatalf("testenv: dbus-daemon printed no address; %s", bus.describeExit())
	}
	k := &KeychainEnv{BusAddress: addr, Home: home, bus: bus}
	setKeychainEnv(t, home, addr)
	return k
}

// setKeychainEnv points this process's session-bus environment at addr for the
// rest of the test. At cleanup, before the bus stops and the variables are
// restored, it closes godbus's shared session-bus connection (which
// go-keyring uses) so the next test dials its own bus instead of reusing a
// connection to this one.
func setKeychainEnv(t testing.TB, home, addr string) {
	t.Helper()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "run"))
	closeSharedSessionBus()
	t.Cleanup(closeSharedSessionBus)
}

// closeSharedSessionBus closes godbus's cached session-bus connection, if one
// is open (dbus.SessionBus reconnects on next use).
func closeSharedSessionBus() {
	if shared, err := dbus.SessionBus(); err == nil {
		shared.Close()
	}
}

// collectionLocked reports the Locked property of a Secret Service collection.
func collectionLocked(conn *dbus.Conn, path dbus.ObjectPath) (bool, error) {
	v, err := conn.Object(secretsName, path).GetProperty(collectionIface + ".Locked")
	if err != nil {
		return false, err
	}
	locked, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("Locked is %T", v.Value())
	}
	return locked, nil
}
