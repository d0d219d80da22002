package autostart

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// The Run value round trip on a real registry (Windows, or Wine:
// scripts/test-windows.sh), under keys of the test's own, not the user's
// Run key.
func TestRunKeyRoundTrip(t *testing.T) {
	base := fmt.Sprintf(`Software\PgSafeTest-%d`, time.Now().UnixNano())
	r := runKey{run: base + `\Run`, approved: base + `\StartupApproved\Run`, name: RunValueName}
	t.Cleanup(func() {
		registry.DeleteKey(registry.CURRENT_USER, r.approved)
		registry.DeleteKey(registry.CURRENT_USER, base+`\StartupApproved`)
		registry.DeleteKey(registry.CURRENT_USER, r.run)
		registry.DeleteKey(registry.CURRENT_USER, base)
	})
	if on, err := r.enabled(); on || err != nil {
		t.Fatalf("enabled before enable = %v, %v", on, err)
	}
	cmd := []string{`C:\Program Files\Pg Safe\pgsafe.exe`, "agent", "--login", `an "odd" arg\`}
	if err := r.enable(cmd); err != nil {
		t.Fatal(err)
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, r.run, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	v, typ, err := k.GetStringValue(RunValueName)
	k.Close()
	if err != nil || typ != registry.SZ || v != RunValue(cmd) {
		t.Fatalf("Run value = %q (type %d), %v; want %q", v, typ, err, RunValue(cmd))
	}
	// Windows' own reading of a command line gives the command back.
	got, err := windows.DecomposeCommandLine(v)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cmd) {
		t.Errorf("CommandLineToArgvW(%s) = %q; want %q", v, got, cmd)
	}
	if on, err := r.enabled(); !on || err != nil {
		t.Fatalf("enabled after enable = %v, %v", on, err)
	}

	// Task Manager switches it off (03 and a time) and on (02).
	setApproved := func(first byte) {
		t.Helper()
		a, _, err := registry.CreateKey(registry.CURRENT_USER, r.approved, registry.SET_VALUE)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if err := a.SetBinaryValue(RunValueName, []byte{first, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
			t.Fatal(err)
		}
	}
	setApproved(3)
	if on, _ := r.enabled(); on {
		t.Errorf("enabled while Task Manager has it off")
	}
	setApproved(2)
	if on, _ := r.enabled(); !on {
		t.Errorf("not enabled while Task Manager has it on")
	}
	setApproved(3)
	if err := r.enable(cmd); err != nil {
		t.Fatal(err)
	}
	if on, _ := r.enabled(); !on {
		t.Errorf("enable did not clear Task Manager's switch-off")
	}

	if err := r.disable(); err != nil {
		t.Fatal(err)
	}
	if on, err := r.enabled(); on || err != nil {
		t.Errorf("enabled after disable = %v, %v", on, err)
	}
	k, _ = registry.OpenKey(registry.CURRENT_USER, r.run, registry.QUERY_VALUE)
	if _, _, err := k.GetStringValue(RunValueName); !errors.Is(err, registry.ErrNotExist) {
		t.Errorf("Run value still there after disable: %v", err)
	}
	k.Close()
	if err := r.disable(); err != nil {
		t.Errorf("disable with nothing to remove: %v", err)
	}
}
