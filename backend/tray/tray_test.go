package tray

import (
	"bytes"
	"image/png"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStatusLine(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ok := &Backup{Database: "crm", Succeeded: true, At: now.Add(-90 * time.Minute)}
	bad := &Backup{Database: "crm", At: now.Add(-3 * time.Minute)}
	for _, c := range []struct {
		st    Status
		line  string
		state State
	}{
		{Status{}, "No backups yet", Idle},
		{Status{Notice: "Opening the key and settings…"}, "Opening the key and settings…", Idle},
		{Status{Last: ok}, "Last backup succeeded: crm, 1 h ago", Idle},
		{Status{Last: bad, Failing: []string{"crm"}}, "Last backup failed: crm, 3 min ago", Failed},
		{Status{Last: ok, Failing: []string{"billing"}}, "billing is not protected", Failed},
		{Status{Last: ok, Failing: []string{"billing"}, Reason: "The last backup failed: the server refused the password"}, "billing: The last backup failed: the server refused the password", Failed},
		{Status{Last: ok, Failing: []string{"a", "b"}}, "2 databases are not protected", Failed},
		{Status{Last: ok, Attention: []string{"crm"}, Reason: "No backup of it has been verified yet"}, "crm needs attention: No backup of it has been verified yet", Attention},
		{Status{Last: ok, Attention: []string{"a", "b"}}, "2 databases need attention", Attention},
		{Status{Last: ok, Running: []string{"shop"}, Failing: []string{"a"}}, "Backing up shop…", Running},
		{Status{Running: []string{"a", "b"}}, "Backing up 2 databases…", Running},
		{Status{Problem: "Backups cannot run: the key is not open", Last: ok}, "Backups cannot run: the key is not open", Failed},
	} {
		if got := StatusLine(c.st, now); got != c.line {
			t.Errorf("StatusLine(%+v) = %q, want %q", c.st, got, c.line)
		}
		if got := c.st.State(); got != c.state {
			t.Errorf("State(%+v) = %v, want %v", c.st, got, c.state)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		10 * time.Second:    "just now",
		5 * time.Minute:     "5 min ago",
		59 * time.Minute:    "59 min ago",
		3 * time.Hour:       "3 h ago",
		30 * time.Hour:      "yesterday",
		5 * 24 * time.Hour:  "5 days ago",
		-10 * time.Second:   "just now", // a clock a little ahead
		49 * 24 * time.Hour: "49 days ago",
	} {
		if got := Ago(now.Add(-d), now); got != want {
			t.Errorf("Ago(now-%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMenuStructure(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.Local)
	tr := New(nil, Options{Now: func() time.Time { return now }})
	m := tr.menu(Status{Databases: []string{"a", "b"}, Paused: Pause{Paused: true, Until: now.Add(time.Hour)}}, "line", "")
	var labels []string
	for _, e := range m {
		labels = append(labels, e.label)
	}
	want := []string{"line", "", "Back up now", "Schedules paused until 13:00", "", "Open PgSafe", "Quit PgSafe"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	// Relabelling keeps the structure; a new database or line changes it.
	same := tr.menu(Status{Databases: []string{"a", "b"}, Lines: []DatabaseLine{}}, "other", "")
	if signature(m) != signature(same) {
		t.Errorf("structure changed with labels only:\n%s\n%s", signature(m), signature(same))
	}
	for _, other := range [][]entry{
		tr.menu(Status{Databases: []string{"a", "b", "c"}}, "line", ""),
		tr.menu(Status{Databases: []string{"a", "b"}, Update: "0.2.0"}, "line", ""),
		tr.menu(Status{Databases: []string{"a", "b"}}, "line", "tomorrow"),
		tr.menu(Status{Databases: []string{"a", "b"}, Running: []string{"a"}}, "line", ""), // Quit asks first
	} {
		if signature(other) == signature(m) {
			t.Errorf("structure unchanged: %s", signature(other))
		}
	}
}

// Every database's state is a line of its own, with its colour's icon,
// between the status line and the actions; it is not clickable.
func TestMenuStateLines(t *testing.T) {
	tr := New(nil, Options{})
	m := tr.menu(Status{Databases: []string{"billing", "shop"}, Lines: []DatabaseLine{
		{Name: "billing", State: Failed, Words: "failing: the last backup failed"},
		{Name: "shop", State: Idle, Words: "protected"},
	}}, "line", "")
	var labels []string
	for _, e := range m {
		labels = append(labels, e.label)
		if strings.HasPrefix(e.key, "state:") && (e.enabled || !e.hasIcon || e.action != nil) {
			t.Errorf("state line %q: enabled %v, icon %v, action %v", e.label, e.enabled, e.hasIcon, e.action != nil)
		}
	}
	want := []string{"line", "", "billing: failing: the last backup failed", "shop: protected", "", "Back up now", "Pause schedules", "", "Open PgSafe", "Quit PgSafe"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if m[2].icon != Failed || m[3].icon != Idle {
		t.Errorf("icons %v %v, want failed, idle", m[2].icon, m[3].icon)
	}
}

// A server entry is one line (its worst state), its databases in a submenu
// under it, each with its own icon; they are not listed again at the top.
func TestMenuServerLine(t *testing.T) {
	tr := New(nil, Options{})
	m := tr.menu(Status{Databases: []string{"prod", "shop"}, Lines: []DatabaseLine{
		{Name: "prod", State: Failed, Words: "failing: billing (failing)", Databases: []DatabaseLine{
			{Name: "prod/app", State: Idle, Words: "protected"},
			{Name: "prod/billing", State: Failed, Words: "failing: the last backup failed"},
		}},
		{Name: "shop", State: Idle, Words: "protected"},
	}}, "line", "")
	var top []string
	for _, e := range m {
		if strings.HasPrefix(e.key, "state:") {
			top = append(top, e.label)
		}
	}
	if want := []string{"prod: failing: billing (failing)", "shop: protected"}; !reflect.DeepEqual(top, want) {
		t.Fatalf("state lines %q, want %q", top, want)
	}
	prod := m[2]
	if !prod.enabled || prod.icon != Failed || len(prod.sub) != 2 {
		t.Fatalf("prod's line: enabled %v, icon %v, %d under it", prod.enabled, prod.icon, len(prod.sub))
	}
	if s := prod.sub[1]; s.label != "prod/billing: failing: the last backup failed" || s.icon != Failed || !s.hasIcon || s.enabled || s.action != nil {
		t.Errorf("billing under prod: %+v", s)
	}
	if m[3].enabled || m[3].sub != nil {
		t.Errorf("a plain database's line opens something: %+v", m[3])
	}
}

func TestIcons(t *testing.T) {
	seen := map[string]State{}
	for _, s := range []State{Idle, Running, Failed} {
		b, err := icons.ReadFile("icons/" + s.String() + ".png")
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%v icon: %v", s, err)
		}
		if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
			t.Errorf("%v icon is %v", s, img.Bounds())
		}
		if prev, dup := seen[string(b)]; dup {
			t.Errorf("%v and %v icons are the same", s, prev)
		}
		seen[string(b)] = s
		ico, err := icons.ReadFile("icons/" + s.String() + ".ico")
		if err != nil || len(ico) < 6 || !bytes.Equal(ico[:4], []byte{0, 0, 1, 0}) || ico[4] != 3 {
			t.Errorf("%v.ico is not an icon file with 3 images (%v)", s, err)
		}
	}
}

// A newer release shows as one clickable item beside Open PgSafe, only
// while there is one.
func TestMenuUpdateItem(t *testing.T) {
	tr := New(nil, Options{})
	m := tr.menu(Status{Databases: []string{"a"}, Update: "0.2.0"}, "line", "")
	var labels []string
	for _, e := range m {
		labels = append(labels, e.label)
		if e.key == "update" && (!e.enabled || e.action == nil) {
			t.Errorf("the update item is not clickable")
		}
	}
	want := []string{"line", "", "Back up now", "Pause schedules", "", "Update available: PgSafe 0.2.0…", "Open PgSafe", "Quit PgSafe"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	for _, e := range tr.menu(Status{Databases: []string{"a"}}, "line", "") {
		if e.key == "update" || strings.Contains(e.label, "Update") {
			t.Errorf("an update item with no update: %q", e.label)
		}
	}
}

// Quit asks first while a backup runs: the item opens a submenu saying what
// happens to the backup, and only its second item quits.
func TestMenuQuitAsksWhileABackupRuns(t *testing.T) {
	quits := 0
	app := &quitCounter{quits: &quits}
	tr := New(app, Options{})
	last := func(m []entry) entry { return m[len(m)-1] }

	idle := last(tr.menu(Status{Databases: []string{"shop"}}, "line", ""))
	if idle.label != "Quit PgSafe" || idle.sub != nil || idle.action == nil {
		t.Fatalf("idle: %+v, want a plain Quit PgSafe", idle)
	}
	busy := last(tr.menu(Status{Databases: []string{"shop"}, Running: []string{"shop"}}, "line", ""))
	if busy.label != "Quit PgSafe" || busy.action != nil || len(busy.sub) != 2 {
		t.Fatalf("while backing up: %+v, want a submenu", busy)
	}
	if say := busy.sub[0]; say.enabled || say.label != "The backup of shop is running: it gets a minute to finish, then it is cancelled" {
		t.Errorf("the submenu's first line: %+v", say)
	}
	if q := busy.sub[1]; !q.enabled || q.label != "Quit PgSafe anyway" || q.action == nil {
		t.Fatalf("the submenu's quit: %+v", q)
	}
	busy.sub[1].action()
	if quits != 1 {
		t.Errorf("Quit PgSafe anyway quit %d times", quits)
	}
	two := last(tr.menu(Status{Databases: []string{"a", "b"}, Running: []string{"a", "b"}}, "line", ""))
	if !strings.HasPrefix(two.sub[0].label, "The backups of a, b are running") {
		t.Errorf("two backups: %q", two.sub[0].label)
	}
}

// quitCounter is an App that counts Quit.
type quitCounter struct {
	App
	quits *int
}

func (q *quitCounter) Quit() { *q.quits++ }
