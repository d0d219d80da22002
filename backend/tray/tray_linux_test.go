package tray

import (
	"bufio"
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// These tests run the tray against a private D-Bus session bus (a
// dbus-daemon of their own, as backend/internal/testenv starts for the
// keychain) with a small org.kde.StatusNotifierWatcher standing in for the
// panel, and read the icon and menu back the way a tray host does.

const (
	itemIface = testenv.ItemIface
	menuIface = testenv.MenuIface
)

// The panel's side: testenv's stand-in watcher and dbusmenu reads.
type (
	watcher = testenv.TrayWatcher
	node    = testenv.MenuNode
)

// startBus starts a private session bus (testenv.SessionBus: no service
// activation) and points DBUS_SESSION_BUS_ADDRESS at it for the rest of the test.
func startBus(t *testing.T) string { return testenv.SessionBus(t) }

func dial(t *testing.T, addr string) *dbus.Conn { return testenv.DialBus(t, addr) }

func startWatcher(t *testing.T, addr string, host bool) *watcher {
	return testenv.StartTrayWatcher(t, addr, host)
}

func newWatcher(t *testing.T, addr string, host bool) *watcher {
	return testenv.NewTrayWatcher(t, addr, host)
}

func layout(t *testing.T, menu dbus.BusObject) (uint32, node) { return testenv.MenuLayout(t, menu) }

func click(t *testing.T, menu dbus.BusObject, n node) { testenv.ClickMenu(t, menu, n) }

// fakeApp is the tray's App with a status the test sets and a record of
// every call.
type fakeApp struct {
	mu     sync.Mutex
	status Status
	next   string

	backedUp chan string
	paused   chan time.Duration
	resumed  chan struct{}
	opened   chan struct{}
	updated  chan struct{}
	quit     chan struct{}
}

func newFakeApp(st Status) *fakeApp {
	return &fakeApp{status: st, backedUp: make(chan string, 8), paused: make(chan time.Duration, 8),
		resumed: make(chan struct{}, 8), opened: make(chan struct{}, 8), updated: make(chan struct{}, 8), quit: make(chan struct{}, 8)}
}

func (a *fakeApp) set(st Status) {
	a.mu.Lock()
	a.status = st
	a.mu.Unlock()
}

func (a *fakeApp) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

func (a *fakeApp) NextBackup() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.next
}

func (a *fakeApp) BackUp(db string) error               { a.backedUp <- db; return nil }
func (a *fakeApp) PauseSchedules(d time.Duration) error { a.paused <- d; return nil }
func (a *fakeApp) ResumeSchedules() error               { a.resumed <- struct{}{}; return nil }
func (a *fakeApp) OpenWindow()                          { a.opened <- struct{}{} }
func (a *fakeApp) OpenUpdate()                          { a.updated <- struct{}{} }
func (a *fakeApp) Quit()                                { a.quit <- struct{}{} }

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the tray did not call the app within 5 s", what)
	}
	var zero T
	return zero
}

func property(t *testing.T, obj dbus.BusObject, name string) any {
	t.Helper()
	v, err := obj.GetProperty(itemIface + "." + name)
	if err != nil {
		t.Fatalf("property %s: %v", name, err)
	}
	return v.Value()
}

// pixmap is the item's IconPixmap: (width, height, ARGB bytes) of its image.
func pixmap(t *testing.T, item dbus.BusObject) (int32, int32, []byte) {
	t.Helper()
	var px []struct {
		W, H int32
		Pix  []byte
	}
	v, err := item.GetProperty(itemIface + ".IconPixmap")
	if err != nil {
		t.Fatalf("IconPixmap: %v", err)
	}
	if err := dbus.Store([]any{v.Value()}, &px); err != nil {
		t.Fatalf("IconPixmap is not a(iiay): %v (%#v)", err, v.Value())
	}
	if len(px) != 1 {
		t.Fatalf("IconPixmap holds %d images, want 1", len(px))
	}
	return px[0].W, px[0].H, px[0].Pix
}

// argb is an embedded icon as StatusNotifierItem pixels (ARGB, network order).
func argb(t *testing.T, s State) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(icon(s)))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			out = append(out, byte(a), byte(r), byte(g), byte(bl))
		}
	}
	return out
}

func tooltipTitle(t *testing.T, item dbus.BusObject) string {
	t.Helper()
	parts, ok := property(t, item, "ToolTip").([]any)
	if !ok || len(parts) != 4 {
		t.Fatalf("ToolTip is (sa(iiay)ss), got %#v", property(t, item, "ToolTip"))
	}
	return parts[2].(string)
}

// TestTrayOnPrivateBus starts the tray and checks what a tray host sees and
// what its clicks do. fyne.io/systray keeps global state and starts once per
// process, so the test runs in a fresh child process (-count=N and other
// tests stay independent of it).
func TestTrayOnPrivateBus(t *testing.T) {
	if os.Getenv("PGSAFE_TRAY_TEST_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTrayOnPrivateBus$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "PGSAFE_TRAY_TEST_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestTrayOnPrivateBus")) {
			t.Fatalf("the tray test in a child process failed (%v):\n%s", err, out)
		}
		return
	}
	addr := startBus(t)
	w := startWatcher(t, addr, true)
	if av := Probe(0); !av.Available {
		t.Fatalf("Probe with a watcher and host = %+v, want available", av)
	}

	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	app := newFakeApp(Status{
		Databases: []string{"billing", "crm"},
		Last:      &Backup{Database: "crm", Succeeded: true, At: now.Add(-5 * time.Minute)},
	})
	tr := New(app, Options{Every: time.Hour, Now: func() time.Time { return now }})
	if err := tr.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(tr.Stop)

	// The watcher recorded one item, registered by the tray's connection.
	items, senders := w.Registered()
	if len(items) != 1 || !strings.HasPrefix(items[0], senders[0]+"/") {
		t.Fatalf("watcher items %q from %q, want one sender/path item", items, senders)
	}
	conn := dial(t, addr)
	path := dbus.ObjectPath(strings.TrimPrefix(items[0], senders[0]))
	item := conn.Object(senders[0], path)

	if got := property(t, item, "Status"); got != "Active" {
		t.Errorf("Status = %v, want Active", got)
	}
	if got := property(t, item, "Title"); got != "PgSafe" {
		t.Errorf("Title = %v, want PgSafe", got)
	}
	if got := tooltipTitle(t, item); got != "PgSafe: Last backup succeeded: crm, 5 min ago" {
		t.Errorf("ToolTip title = %q", got)
	}
	wd, ht, idlePix := pixmap(t, item)
	if wd != 64 || ht != 64 || !bytes.Equal(idlePix, argb(t, Idle)) {
		t.Errorf("IconPixmap is %dx%d and the idle icon: %v", wd, ht, bytes.Equal(idlePix, argb(t, Idle)))
	}

	menuPath, ok := property(t, item, "Menu").(dbus.ObjectPath)
	if !ok {
		t.Fatalf("Menu = %#v, want an object path", property(t, item, "Menu"))
	}
	menu := conn.Object(senders[0], menuPath)
	rev1, root := layout(t, menu)
	want := []string{"Last backup succeeded: crm, 5 min ago", "---", "Back up now", "Pause schedules", "---", "Open PgSafe", "Quit PgSafe"}
	if got := root.Labels(); !reflect.DeepEqual(got, want) {
		t.Fatalf("menu = %q, want %q", got, want)
	}
	if status, _ := root.Find(want[0]); status.Enabled() {
		t.Errorf("the status line is clickable")
	}
	backup, _ := root.Find("Back up now")
	if got := backup.Labels(); !reflect.DeepEqual(got, []string{"billing", "crm"}) {
		t.Errorf("Back up now ▸ %q, want the databases", got)
	}
	pause, _ := root.Find("Pause schedules")
	if got := pause.Labels(); !reflect.DeepEqual(got, []string{"For 1 hour", "Until resumed", "Resume schedules"}) {
		t.Errorf("Pause schedules ▸ %q", got)
	}
	if resume, _ := pause.Find("Resume schedules"); resume.Enabled() {
		t.Errorf("Resume schedules is enabled while nothing is paused")
	}

	// Clicks reach the app.
	crm, _ := backup.Find("crm")
	click(t, menu, crm)
	if db := receive(t, app.backedUp, "Back up now ▸ crm"); db != "crm" {
		t.Errorf("Back up now ▸ crm backed up %q", db)
	}
	hour, _ := pause.Find("For 1 hour")
	click(t, menu, hour)
	if d := receive(t, app.paused, "Pause ▸ For 1 hour"); d != time.Hour {
		t.Errorf("For 1 hour paused for %v", d)
	}
	forever, _ := pause.Find("Until resumed")
	click(t, menu, forever)
	if d := receive(t, app.paused, "Pause ▸ Until resumed"); d != 0 {
		t.Errorf("Until resumed paused for %v, want 0 (until resumed)", d)
	}
	open, _ := root.Find("Open PgSafe")
	click(t, menu, open)
	receive(t, app.opened, "Open PgSafe")
	// A left click on the icon opens the window too.
	if err := item.Call(itemIface+".Activate", 0, int32(0), int32(0)).Err; err != nil {
		t.Fatalf("Activate: %v", err)
	}
	receive(t, app.opened, "Activate")

	// A backup fails: the icon, tooltip and status line say so, and the host
	// is told to fetch the new icon.
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(itemIface), dbus.WithMatchMember("NewIcon")); err != nil {
		t.Fatal(err)
	}
	app.set(Status{
		Databases: []string{"billing", "crm"},
		Last:      &Backup{Database: "billing", Succeeded: false, At: now.Add(-2 * time.Hour)},
		Failing:   []string{"billing"},
	})
	tr.Refresh()
	if _, _, pix := pixmap(t, item); !bytes.Equal(pix, argb(t, Failed)) || bytes.Equal(pix, idlePix) {
		t.Errorf("after a failure IconPixmap is not the failed icon")
	}
	if got := tooltipTitle(t, item); got != "PgSafe: Last backup failed: billing, 2 h ago" {
		t.Errorf("ToolTip title after a failure = %q", got)
	}
	select {
	case <-signals:
	case <-time.After(5 * time.Second):
		t.Errorf("no NewIcon signal after the icon changed")
	}
	if _, root = layout(t, menu); root.Labels()[0] != "Last backup failed: billing, 2 h ago" {
		t.Errorf("status line after a failure = %q", root.Labels()[0])
	}

	// A database is added, one is backing up, schedules are paused and the
	// scheduler has a next run: the menu is rebuilt with all of it.
	app.mu.Lock()
	app.next = "crm at 14:00"
	app.mu.Unlock()
	app.set(Status{
		Databases: []string{"billing", "crm", "shop"},
		Running:   []string{"shop"},
		Paused:    Pause{Paused: true},
	})
	tr.Refresh()
	rev2, root := layout(t, menu)
	if rev2 <= rev1 {
		t.Errorf("menu revision %d after a change, was %d", rev2, rev1)
	}
	want = []string{"Backing up shop…", "Next scheduled backup: crm at 14:00", "---", "Back up now", "Schedules paused until resumed", "---", "Open PgSafe", "Quit PgSafe"}
	if got := root.Labels(); !reflect.DeepEqual(got, want) {
		t.Fatalf("menu = %q, want %q", got, want)
	}
	_, _, pix := pixmap(t, item)
	if !bytes.Equal(pix, argb(t, Running)) {
		t.Errorf("while backing up IconPixmap is not the running icon")
	}
	backup, _ = root.Find("Back up now")
	if got := backup.Labels(); !reflect.DeepEqual(got, []string{"billing", "crm", "shop (backing up…)"}) {
		t.Errorf("Back up now ▸ %q", got)
	}
	if shop, _ := backup.Find("shop (backing up…)"); shop.Enabled() {
		t.Errorf("a database being backed up can be started again")
	}
	paused, _ := root.Find("Schedules paused until resumed")
	resume, _ := paused.Find("Resume schedules")
	if !resume.Enabled() {
		t.Fatalf("Resume schedules is disabled while paused")
	}
	click(t, menu, resume)
	receive(t, app.resumed, "Resume schedules")
	// The rebuilt items work: the new database's item backs it up.
	app.set(Status{Databases: []string{"billing", "crm", "shop"}})
	tr.Refresh()
	_, root = layout(t, menu)
	shop, ok := root.Find("shop")
	if !ok || !shop.Enabled() {
		t.Fatalf("no enabled shop item after the backup finished: %q", root.Labels())
	}
	click(t, menu, shop)
	if db := receive(t, app.backedUp, "Back up now ▸ shop"); db != "shop" {
		t.Errorf("Back up now ▸ shop backed up %q", db)
	}

	// A newer PgSafe is released: the menu offers it, and the click reaches
	// the app (which opens the download page).
	app.set(Status{Databases: []string{"billing", "crm", "shop"}, Update: "0.2.0"})
	tr.Refresh()
	_, root = layout(t, menu)
	upd, ok := root.Find("Update available: PgSafe 0.2.0…")
	if !ok || !upd.Enabled() {
		t.Fatalf("no enabled update item: %q", root.Labels())
	}
	click(t, menu, upd)
	receive(t, app.updated, "Update available")
	app.set(Status{Databases: []string{"billing", "crm", "shop"}})
	tr.Refresh()
	if _, root = layout(t, menu); root.Labels()[len(root.Labels())-3] != "---" {
		t.Errorf("the update item stayed after the update went: %q", root.Labels())
	}

	// A hint (no desktop notification available) shows in the tooltip.
	tr.SetHint("PgSafe keeps running here")
	if got := tooltipTitle(t, item); !strings.HasPrefix(got, "PgSafe keeps running here\nPgSafe: ") {
		t.Errorf("tooltip with a hint = %q", got)
	}
	tr.ClearHint()

	quit, _ := root.Find("Quit PgSafe")
	click(t, menu, quit)
	receive(t, app.quit, "Quit")
}

func TestProbeNoWatcher(t *testing.T) {
	startBus(t)
	av := Probe(0)
	if av.Available || !strings.Contains(av.Reason, "no system tray") || !strings.Contains(av.Reason, watcherName) {
		t.Fatalf("Probe without a watcher = %+v, want unavailable naming the watcher", av)
	}
}

func TestProbeWatcherWithoutHost(t *testing.T) {
	addr := startBus(t)
	w := startWatcher(t, addr, false)
	if av := Probe(0); av.Available || !strings.Contains(av.Reason, "no tray host") {
		t.Fatalf("Probe with a watcher but no host = %+v", av)
	}
	w.Props.SetMust(testenv.WatcherIface, "IsStatusNotifierHostRegistered", true)
	if av := Probe(0); !av.Available {
		t.Fatalf("Probe once a host registered = %+v", av)
	}
}

func TestProbeNoBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	av := Probe(0)
	if av.Available || !strings.Contains(av.Reason, "no D-Bus session bus") {
		t.Fatalf("Probe without a bus = %+v", av)
	}
}

// At login PgSafe may start before the panel: Probe waits for the watcher.
func TestProbeWaitsForTheWatcher(t *testing.T) {
	addr := startBus(t)
	w := newWatcher(t, addr, true)
	owned := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		owned <- w.Own()
	}()
	start := time.Now()
	av := Probe(5 * time.Second)
	if err := <-owned; err != nil {
		t.Fatal(err)
	}
	if !av.Available {
		t.Fatalf("Probe(5s) with a watcher appearing after 0.3 s = %+v", av)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Probe took %v", d)
	}
}

// FirstInstance: the owner of the instance lock's name is this process, or
// another one (a second instance must not show a tray icon).
func TestFirstInstance(t *testing.T) {
	if name := os.Getenv("PGSAFE_TRAY_TEST_OWN"); name != "" {
		return // the helper process below, not a test
	}
	addr := startBus(t)
	const name = "org.pgsafe.TrayTest.Instance"
	if !FirstInstance(name, 100*time.Millisecond) {
		t.Errorf("nobody owns the name: FirstInstance = false, want true")
	}

	conn := dial(t, addr)
	if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", reply, err)
	}
	if !FirstInstance(name, time.Second) {
		t.Errorf("this process owns the name: FirstInstance = false")
	}
	conn.ReleaseName(name)

	// Another process owns it.
	cmd := exec.Command(os.Args[0], "-test.run=^TestOwnNameHelper$")
	cmd.Env = append(os.Environ(), "PGSAFE_TRAY_TEST_OWN="+name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "owned" {
		t.Fatalf("helper did not own the name: %q", line)
	}
	if FirstInstance(name, time.Second) {
		t.Errorf("another process owns the name: FirstInstance = true")
	}
}

// TestOwnNameHelper is run by TestFirstInstance as a second process.
func TestOwnNameHelper(t *testing.T) {
	name := os.Getenv("PGSAFE_TRAY_TEST_OWN")
	if name == "" {
		return
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", reply, err)
	}
	fmt.Println("owned")
	time.Sleep(time.Minute)
}
