package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/schedule"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestStorageInput(t *testing.T) {
	c, err := StorageInput{Name: "s3", Kind: "s3", Bucket: "backups", Endpoint: "https://s3.example", AccessKeyID: "AKIDEXAMPLE",
		SecretKey: "very-secret-key-123"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.S3 == nil || c.S3.SecretAccessKey.Reveal() != "very-secret-key-123" || !StorageSecretSet(c) || StorageWhere(c) != "s3://backups at https://s3.example" {
		t.Fatalf("s3 config %+v", c)
	}
	if s := fmt.Sprintf("%v %+v", c, c.S3); strings.Contains(s, "very-secret-key-123") {
		t.Fatalf("the secret prints: %s", s)
	}
	c, err = StorageInput{Name: "s3", Kind: "s3", Bucket: "b", AccessKeyID: "ASIAEXAMPLE", SecretKey: "k", SessionToken: "session-token-9"}.Config()
	if err != nil || c.S3.SessionToken.Reveal() != "session-token-9" {
		t.Fatalf("s3 with a session token: %+v, %v", c.S3, err)
	}
	c, err = StorageInput{Name: "nas", Kind: "sftp", Host: "nas", User: "me", Path: "/b", KnownHosts: "/home/me/.ssh/known_hosts"}.Config()
	if err != nil || c.SFTP.KnownHostsPath != "/home/me/.ssh/known_hosts" || c.SFTP.HostKey != "" {
		t.Fatalf("sftp with a known_hosts file: %+v, %v", c.SFTP, err)
	}
	c, err = StorageInput{Name: "nas", Kind: "sftp", Host: "nas", User: "me", Path: "/b"}.Config()
	if err != nil || c.SFTP == nil || StorageSecretSet(c) {
		t.Fatalf("sftp with no secret: %+v, %v", c, err)
	}
	c, _ = StorageInput{Name: "nas", Kind: "sftp", Host: "nas", KeyPath: "/home/me/.ssh/id_ed25519"}.Config()
	if !StorageSecretSet(c) {
		t.Fatal("an SFTP key file is its secret")
	}
	if c, err := (StorageInput{Name: "here", Kind: "local", Path: "/srv/b"}).Config(); err != nil || c.Local == nil || c.Local.Path != "/srv/b" || StorageSecretSet(c) {
		t.Fatalf("local: %+v, %v", c, err)
	}
	if _, err := (StorageInput{Name: "x", Kind: "ftp"}).Config(); err == nil || !strings.Contains(err.Error(), `"ftp"`) {
		t.Fatalf("an unknown kind: %v", err)
	}
}

func TestNotifierInput(t *testing.T) {
	c := NotifierInput{Name: " ops ", Kind: "slack", Settings: map[string]string{"channel": " #ops ", "empty": "  "},
		Secrets: map[string]string{"webhook_url": "https://hooks.example/T0/B0/xyz", "token": ""}}.Config()
	if c.Name != "ops" || !c.Enabled || c.Settings["channel"] != "#ops" || len(c.Settings) != 1 || len(c.Secrets) != 1 ||
		c.Secrets["webhook_url"].Reveal() != "https://hooks.example/T0/B0/xyz" {
		t.Fatalf("config %+v", c)
	}
	n := store.Notifier{NotifierConfig: store.NotifierConfig{Secrets: map[string]store.Secret{"b": store.NewSecret("x"), "a": store.NewSecret("y"), "c": {}}}}
	if got := NotifierSecretsSet(n); strings.Join(got, ",") != "a,b" {
		t.Fatalf("secrets set %v", got)
	}
	if got := NotifierSecretsSet(store.Notifier{}); got == nil || len(got) != 0 {
		t.Fatalf("no secrets: %#v", got)
	}
	if len(NotifierEvents()) == 0 {
		t.Fatal("no events a notifier can receive")
	}
}

func TestSSHInput(t *testing.T) {
	tn := SSHInput{Host: "bastion", Port: 2222, User: "me", Password: "pw", KeyPath: "/k", KeyPassphrase: "pp", HostKey: "ssh-ed25519 AAAA"}.Tunnel()
	if tn.Host != "bastion" || tn.Port != 2222 || tn.Password.Reveal() != "pw" || tn.KeyPassphrase.Reveal() != "pp" || tn.HostKey != "ssh-ed25519 AAAA" {
		t.Fatalf("tunnel %+v", tn)
	}
	if tn := (SSHInput{Host: "b"}).Tunnel(); tn.Password.IsSet() || tn.KeyPassphrase.IsSet() {
		t.Fatalf("empty secrets are set: %+v", tn)
	}
}

func TestPreviewSchedule(t *testing.T) {
	from := time.Date(2026, 12, 6, 10, 0, 0, 0, time.Local)
	p, err := PreviewSchedule(store.ScheduleConfig{Enabled: true, Kind: store.ScheduleDaily, At: "02:30"}, from, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Description, "02:30") || len(p.Next) != 3 || !p.Next[0].Equal(time.Date(2026, 12, 7, 2, 30, 0, 0, time.Local)) ||
		p.Next[2].Sub(p.Next[1]) != 24*time.Hour {
		t.Fatalf("preview %+v", p)
	}
	if _, err := PreviewSchedule(store.ScheduleConfig{Enabled: true, Kind: store.ScheduleDaily, At: "25:00"}, from, 3); err == nil {
		t.Fatal("25:00 was accepted")
	}
	if d := DefaultSchedule(); d.Kind != store.ScheduleDaily || d.At != "02:00" || !d.Enabled {
		t.Fatalf("default %+v", d)
	}
	if DescribeRetention(store.RetentionPolicy{}) == DescribeRetention(store.RetentionPolicy{KeepLast: 3}) {
		t.Fatal("retention is described the same whatever it keeps")
	}
}

// A schedule typed as a kind and its spec: the inverse of
// ScheduleInfo.Spec, checked, its time written HH:MM.
func TestParseScheduleSpec(t *testing.T) {
	for _, c := range []struct {
		kind, spec, tz string
		want           store.ScheduleConfig
	}{
		{"every", "90m", "", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleEvery, Every: 90 * time.Minute}},
		{"every", "1d", "", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleEvery, Every: 24 * time.Hour}},
		{"daily", "2:05", "Europe/Berlin", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleDaily, At: "02:05", TimeZone: "Europe/Berlin"}},
		{"weekly", "mon,fri@02:30", "", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleWeekly, Weekdays: []int{1, 5}, At: "02:30"}},
		{"monthly", "31@3:00", "", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleMonthly, DayOfMonth: 31, At: "03:00"}},
		{"cron", "0 3 * * *", "", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleCron, Cron: "0 3 * * *"}},
	} {
		got, err := ParseScheduleSpec(c.kind, c.spec, c.tz)
		if err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", c.want) {
			t.Errorf("%s %q: %+v, %v; want %+v", c.kind, c.spec, got, err, c.want)
			continue
		}
		// The spec the faces show (ScheduleInfo.Spec) reads back the same.
		if again, err := ParseScheduleSpec(c.kind, schedule.Spec(got), c.tz); err != nil || fmt.Sprintf("%+v", again) != fmt.Sprintf("%+v", got) {
			t.Errorf("%s %q read back from %q: %+v, %v", c.kind, c.spec, schedule.Spec(got), again, err)
		}
	}
	for _, c := range []struct{ kind, spec, tz, want string }{
		{"every", "often", "", `"often" is not an interval`},
		{"daily", "25:00", "", "25:00"},
		{"weekly", "mon,fri", "", `"mon,fri": use DAYS@HH:MM`},
		{"weekly", "mon,fun@02:00", "", `"fun" is not a weekday`},
		{"monthly", "32@02:00", "", `"32" is not a day of the month`},
		{"monthly", "1", "", `"1": use D@HH:MM`},
		{"cron", "0 3 * *", "", "cron"},
		{"daily", "02:00", "Mars/Olympus", `"Mars/Olympus" is not a known time zone`},
		{"hourly", "1", "", `not "hourly"`},
	} {
		if _, err := ParseScheduleSpec(c.kind, c.spec, c.tz); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q %q: %v, want an error saying %q", c.kind, c.spec, c.tz, err, c.want)
		}
	}
}

func TestScheduleInfoZoneAndInterval(t *testing.T) {
	at := time.Date(2026, 12, 6, 1, 30, 0, 0, time.UTC)
	ny := ScheduleInfo{Schedule: store.Schedule{ScheduleConfig: store.ScheduleConfig{Kind: store.ScheduleDaily, At: "02:00", TimeZone: "America/New_York"}}}
	if got := ny.InZone(at).Format("2006-01-02 15:04 MST"); got != "2026-12-05 20:30 EST" {
		t.Fatalf("in New York: %s", got)
	}
	bad := ScheduleInfo{Schedule: store.Schedule{ScheduleConfig: store.ScheduleConfig{TimeZone: "Mars/Olympus"}}}
	if got := bad.InZone(at); got.Location() != time.Local || !got.Equal(at) {
		t.Fatalf("an unknown zone: %v, want local time", got)
	}
	if ny.Interval() != "" {
		t.Fatalf("a daily schedule has interval %q", ny.Interval())
	}
	every := ScheduleInfo{Schedule: store.Schedule{ScheduleConfig: store.ScheduleConfig{Kind: store.ScheduleEvery, Every: 90 * time.Minute}}}
	if every.Interval() != "1h30m" {
		t.Fatalf("every 90 minutes: interval %q", every.Interval())
	}
}
