package agent_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// The agent on a desktop with a tray host, no window open: it shows its
// icon, runs a scheduled backup, says every database's state in the menu;
// "Open PgSafe" starts the window and "Quit PgSafe" stops the agent.
func TestAgentTrayRunsSchedulesWithoutAWindow(t *testing.T) {
	kc := testenv.Keychain(t)
	host := testenv.StartTrayWatcher(t, kc.BusAddress, true)
	pg := testenv.Postgres(t)
	pg.CreateDB(t, "shop")
	pg.Exec(t, "shop", `CREATE TABLE orders (id int PRIMARY KEY, total numeric);
		INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g;
		CREATE ROLE tray_reader LOGIN PASSWORD 'tray-reader-pw-5150'; GRANT SELECT ON orders TO tray_reader;`)

	home := shortTemp(t)
	fifo := filepath.Join(shortTemp(t), "window")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGSAFE_TEST_WINDOW_FIFO", fifo)
	cmd := agentCommand(t, home)
	cmd = []string{cmd[0], "agent", "--login"} // with its tray, as at login
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, h, err := agent.Ensure(ctx, home, cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Cleanup(func() { syscall.Kill(h.PID, syscall.SIGKILL) })

	// The icon registers with the tray host.
	var sender string
	select {
	case sender = <-host.Registrations():
	case <-ctx.Done():
		t.Fatalf("the agent's tray icon never registered\n%s", readLog(home))
	}

	// Set up as the window would, through the API; then a schedule every
	// minute. No window is open.
	events := make(chan agent.Event, 256)
	go c.Events(ctx, false, func(ev agent.Event) { events <- ev })
	call := func(method string, args ...any) {
		t.Helper()
		if err := c.Call(ctx, method, nil, args...); err != nil {
			t.Fatalf("%s: %v\n%s", method, err, readLog(home))
		}
	}
	if ks, err := c.WaitOpen(ctx); err != nil || !ks.Ready {
		t.Fatalf("the agent's key: %+v, %v\n%s", ks, err, readLog(home))
	}
	call("StorageService.Add", map[string]any{"name": "Local disk", "kind": "local", "path": shortTemp(t)})
	call("DatabaseService.Add", map[string]any{"name": "Shop", "host": pg.Host, "port": pg.Port, "dbname": "shop",
		"user": "tray_reader", "password": "tray-reader-pw-5150", "sslmode": "disable", "storages": []string{"Local disk"}, "countRows": true}, false)
	call("ScheduleService.Set", "Shop", map[string]any{"enabled": true, "kind": "every", "everyMinutes": 1})

	// The scheduled backup runs in the agent.
	for {
		var ev agent.Event
		select {
		case ev = <-events:
		case <-ctx.Done():
			t.Fatalf("no scheduled backup finished\n%s", readLog(home))
		}
		var d struct{ Type, Job, Database, Origin, Outcome, Error string }
		if ev.Name != "engine:event" || json.Unmarshal(ev.Data, &d) != nil || d.Type != "job.finished" || d.Job != "backup" {
			continue
		}
		if d.Origin != "scheduled" || d.Outcome != "succeeded" {
			t.Fatalf("backup of %s: origin %s, outcome %s (%s)", d.Database, d.Origin, d.Outcome, d.Error)
		}
		break
	}

	// The menu a panel reads: Shop's state in words, with an icon.
	conn := testenv.DialBus(t, kc.BusAddress)
	items, _ := host.Registered()
	item := conn.Object(sender, dbus.ObjectPath(strings.TrimPrefix(items[len(items)-1], sender)))
	mp, err := item.GetProperty(testenv.ItemIface + ".Menu")
	if err != nil {
		t.Fatal(err)
	}
	menu := conn.Object(sender, mp.Value().(dbus.ObjectPath))
	// The menu follows the state change the backup made: read it after each
	// update the menu announces until Shop's line shows the backup.
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(testenv.MenuIface)); err != nil {
		t.Fatal(err)
	}
	updates := make(chan *dbus.Signal, 64)
	conn.Signal(updates)
	var shop testenv.MenuNode
	for shop.Label() == "" {
		_, root := testenv.MenuLayout(t, menu)
		for _, n := range root.Children {
			if strings.HasPrefix(n.Label(), "Shop: ") && !strings.Contains(n.Label(), "not backed up yet") {
				shop = n
			}
		}
		if shop.Label() != "" {
			break
		}
		select {
		case <-updates:
		case <-ctx.Done():
			t.Fatalf("the tray menu never showed Shop backed up: %q", root.Labels())
		}
	}
	if !strings.HasPrefix(shop.Label(), "Shop: needs attention") {
		t.Fatalf("Shop's line in the tray menu = %q, want it backed up and never verified", shop.Label())
	}
	if px, _ := shop.Props["icon-data"].Value().([]byte); len(px) == 0 || shop.Enabled() {
		t.Errorf("Shop's line: icon %d bytes, enabled %v; want an icon, not clickable", len(px), shop.Enabled())
	}

	// "Open PgSafe" starts the window. When the menu's structure changes
	// (the next scheduled backup's line, a state line), the tray rebuilds it
	// item by item, and a read in between sees part of it: read again after
	// each update until it is whole.
	var open testenv.MenuNode
	for ok := false; !ok; {
		var root testenv.MenuNode
		_, root = testenv.MenuLayout(t, menu)
		if open, ok = root.Find("Open PgSafe"); ok {
			break
		}
		select {
		case <-updates:
		case <-ctx.Done():
			t.Fatalf("no Open PgSafe in %q", root.Labels())
		}
	}
	opened := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the window stand-in opens it
		if err != nil {
			opened <- err.Error()
			return
		}
		defer f.Close()
		line, _ := bufio.NewReader(f).ReadString('\n')
		opened <- line
	}()
	testenv.ClickMenu(t, menu, open)
	select {
	case line := <-opened:
		if line != "window opened\n" {
			t.Fatalf("the window stand-in said %q", line)
		}
	case <-ctx.Done():
		t.Fatal("Open PgSafe started no window")
	}

	// "Quit PgSafe" stops the agent. While a backup runs (the schedule
	// starts one every minute) it is a submenu whose "Quit PgSafe anyway"
	// quits. The menu can change between reading and clicking: click what it
	// shows after each change until the agent has stopped.
	exited := make(chan error, 1)
	go func() { exited <- agent.WaitExit(ctx, home) }()
	for drained := false; !drained; {
		select {
		case <-updates:
		default:
			drained = true
		}
	}
	for stopped := false; !stopped; {
		if strings.Contains(readLog(home), "Quit PgSafe in the tray") {
			if err := <-exited; err != nil {
				t.Fatal(err)
			}
			break
		}
		_, root := testenv.MenuLayout(t, menu)
		quit, ok := root.Find("Quit PgSafe anyway")
		if !ok {
			quit, ok = root.Find("Quit PgSafe")
		}
		if !ok || len(quit.Children) > 0 {
			select { // read while the tray rebuilds its menu: read it again
			case <-updates:
				continue
			case <-ctx.Done():
				t.Fatalf("no Quit PgSafe to click in %q", root.Labels())
			}
		}
		clicked := menu.Call(testenv.MenuIface+".Event", 0, quit.ID, "clicked", dbus.MakeVariant(""), uint32(0)).Err
		select {
		case err := <-exited:
			if err != nil {
				t.Fatal(err)
			}
			stopped = true
		case <-updates:
			if strings.Contains(readLog(home), "Quit PgSafe in the tray") {
				continue // the click quit: the next turn waits for the exit
			}
			// the menu changed under the click: click what it shows now
		case <-ctx.Done():
			t.Fatalf("Quit PgSafe (%q, click: %v) did not stop the agent", quit.Label(), clicked)
		}
	}
	if log := readLog(home); !strings.Contains(log, "Quit PgSafe in the tray") || !strings.Contains(log, "stopped cleanly") {
		t.Errorf("the agent's log:\n%s", log)
	}
}
