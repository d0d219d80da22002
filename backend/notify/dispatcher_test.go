package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is a Notifier of the test's own.
type fake struct {
	name   string
	events []string
	send   func(ctx context.Context, ev Event) error
}

func (f *fake) Name() string                             { return f.name }
func (f *fake) Kind() string                             { return "fake" }
func (f *fake) Wants(kind string) bool                   { return wants(f.events, DefaultEvents(), kind) }
func (f *fake) Send(ctx context.Context, ev Event) error { return f.send(ctx, ev) }

// results collects OnResult calls.
type results struct {
	mu  sync.Mutex
	all []Result
	ch  chan Result
}

func newResults() *results { return &results{ch: make(chan Result, 10000)} }

func (r *results) add(res Result) {
	r.mu.Lock()
	r.all = append(r.all, res)
	r.mu.Unlock()
	r.ch <- res
}

func (r *results) next(t *testing.T) Result {
	t.Helper()
	select {
	case res := <-r.ch:
		return res
	case <-time.After(5 * time.Second):
		t.Fatal("no result within 5s")
		return Result{}
	}
}

func closeNow(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestDispatcherRetriesThenDelivers(t *testing.T) {
	srv := newServer(t, http.StatusInternalServerError, http.StatusOK)
	n := mustNew(t, config(KindSlack, nil, map[string]string{"webhook_url": srv.URL + slackPath}))
	res := newResults()
	log, logs := newLog()
	d := NewDispatcher([]Notifier{n}, Options{Backoff: []time.Duration{10 * time.Millisecond, time.Hour}, OnResult: res.add, Log: log})
	d.Notify(sampleEvent())

	r := res.next(t)
	if r.Err != nil || r.Attempts != 2 || r.Notifier != "ops slack" || r.Kind != KindSlack || r.Event.Title != sampleEvent().Title {
		t.Errorf("result = %+v, want delivered on attempt 2", r)
	}
	if got := srv.got(); len(got) != 2 || string(got[0].Body) != string(got[1].Body) {
		t.Errorf("server got %d requests, want the same message twice", len(got))
	}
	closeNow(t, d)
	if !strings.Contains(logs.String(), `"msg":"notification failed; will retry","notifier":"ops slack","kind":"slack","event":"backup.failed","database":"orders","attempt":1,"retry_in":10000000,"error":"slack notifier \"ops slack\": HTTP 500 Internal Server Error: ok"`) {
		t.Errorf("log:\n%s", logs)
	}
}

func TestDispatcherGivesUpWithoutSecrets(t *testing.T) {
	srv := newServer(t, http.StatusBadGateway)
	srv.answer = func(r request) string { return "no route for " + r.Path }
	res := newResults()
	log, logs := newLog()
	var ns []Notifier
	for _, k := range secretKinds(srv.URL) {
		settings, secrets := k.cfg()
		ns = append(ns, mustNew(t, config(k.kind, settings, secrets)))
	}
	d := NewDispatcher(ns, Options{Backoff: []time.Duration{time.Millisecond, 2 * time.Millisecond}, OnResult: res.add, Log: log})
	d.Notify(sampleEvent())
	for range ns {
		r := res.next(t)
		se, ok := errors.AsType[*StatusError](r.Err)
		if r.Attempts != 3 || !ok || se.Code != http.StatusBadGateway {
			t.Errorf("%s: %d attempts, err %v; want 3 and HTTP 502", r.Notifier, r.Attempts, r.Err)
		}
		if !strings.Contains(r.Err.Error(), "HTTP 502 Bad Gateway: no route for ") {
			t.Errorf("%s: err = %v", r.Notifier, r.Err)
		}
	}
	closeNow(t, d)
	if n := len(srv.got()); n != 3*len(ns) {
		t.Errorf("server got %d requests, want %d", n, 3*len(ns))
	}
	text := logs.String()
	if c := strings.Count(text, "giving up"); c != len(ns) {
		t.Errorf("%d 'giving up' lines, want %d:\n%s", c, len(ns), text)
	}
	if c := strings.Count(text, "will retry"); c != 2*len(ns) {
		t.Errorf("%d 'will retry' lines, want %d", c, 2*len(ns))
	}
	for _, k := range secretKinds(srv.URL) {
		for _, s := range k.secrets {
			for _, r := range res.all {
				if strings.Contains(r.Err.Error(), s) {
					t.Errorf("result error shows %q: %v", s, r.Err)
				}
			}
			if strings.Contains(text, s) || strings.Contains(text, strings.ReplaceAll(s, "/", `\/`)) {
				t.Errorf("log shows %q", s)
			}
		}
	}
}

// A notifier that hangs neither blocks Notify nor delays another notifier;
// its queue drops the oldest events; Close gives up at its deadline.
func TestDispatcherNeverBlocks(t *testing.T) {
	started := make(chan Event, 1)
	hang := &fake{name: "hangs", send: func(ctx context.Context, ev Event) error {
		select {
		case started <- ev:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}}
	var mu sync.Mutex
	var fastGot []string
	fast := &fake{name: "fast", send: func(_ context.Context, ev Event) error {
		mu.Lock()
		fastGot = append(fastGot, ev.Body)
		mu.Unlock()
		return nil
	}}
	res := newResults()
	log, logs := newLog()
	d := NewDispatcher([]Notifier{hang, fast}, Options{QueueSize: 3, Backoff: []time.Duration{}, AttemptTimeout: time.Hour, OnResult: res.add, Log: log})

	d.Notify(Event{Kind: EventBackupFailed, Body: "0"})
	<-started // "hangs" is now stuck on event 0
	const total = 1000
	start := time.Now()
	for i := 1; i < total; i++ {
		d.Notify(Event{Kind: EventBackupFailed, Body: fmt.Sprint(i)})
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("%d Notify calls took %v", total-1, took)
	}
	// "fast" gets every event (it keeps up, or drops only under its own
	// queue's limit); wait until it saw the last one.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		last := len(fastGot) > 0 && fastGot[len(fastGot)-1] == fmt.Sprint(total-1)
		mu.Unlock()
		if last || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	if len(fastGot) == 0 || fastGot[len(fastGot)-1] != fmt.Sprint(total-1) {
		t.Errorf("fast notifier stuck behind the hanging one: got %d events", len(fastGot))
	}
	mu.Unlock()
	if c := strings.Count(logs.String(), `"msg":"notification dropped: too many waiting for this notifier","notifier":"hangs"`); c != total-1-3 {
		t.Errorf("%d drop warnings for hangs, want %d", c, total-1-3)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	err := d.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("Close = %v after %v, want DeadlineExceeded at the deadline", err, time.Since(start))
	}
	// The hanging delivery, the 3 still queued and the reported drops all
	// settle with an error.
	var closed, dropped []string
	for {
		r := res.next(t)
		if r.Notifier != "hangs" {
			continue
		}
		switch {
		case errors.Is(r.Err, ErrClosed):
			closed = append(closed, r.Event.Body)
		case errors.Is(r.Err, ErrDropped):
			dropped = append(dropped, r.Event.Body)
		default:
			t.Fatalf("unexpected result %+v", r)
		}
		if len(closed) == 4 {
			break
		}
	}
	if !slices.Equal(closed, []string{"0", "997", "998", "999"}) {
		t.Errorf("abandoned: %v, want the hanging one and the newest three", closed)
	}
	if len(dropped) != 3 || dropped[0] != "1" {
		t.Errorf("dropped results: %v, want the first 3 (the rest only logged)", dropped)
	}
	if !strings.Contains(logs.String(), `"msg":"more notifications dropped than reported","notifier":"hangs","kind":"fake","count":993`) {
		t.Errorf("no summary of unreported drops in the log")
	}
	d.Notify(Event{Kind: EventBackupFailed}) // after Close: logged, no panic
}

func TestDispatcherFilters(t *testing.T) {
	type sink struct {
		srv    *server
		events []string
	}
	sinks := map[string]*sink{
		"defaults":  {events: nil},
		"successes": {events: []string{EventBackupSucceeded}},
		"downup":    {events: []string{EventDatabaseDown, EventDatabaseUp}},
	}
	var ns []Notifier
	for name, s := range sinks {
		s.srv = newServer(t)
		c := config(KindWebhook, map[string]string{"url": s.srv.URL}, nil, s.events...)
		c.Name = name
		ns = append(ns, mustNew(t, c))
	}
	res := newResults()
	d := NewDispatcher(ns, Options{OnResult: res.add})
	sent := []string{EventBackupSucceeded, EventBackupFailed, EventDatabaseDown, EventStorageNearlyFull, EventDatabaseUp, EventVerifyFailed, EventDrillFailed}
	for _, k := range sent {
		d.Notify(Event{Kind: k, Database: "orders", Fields: map[string]string{"n": k}})
	}
	closeNow(t, d)
	want := map[string][]string{
		"defaults":  {EventBackupFailed, EventDatabaseDown, EventStorageNearlyFull, EventDatabaseUp, EventVerifyFailed, EventDrillFailed},
		"successes": {EventBackupSucceeded},
		"downup":    {EventDatabaseDown, EventDatabaseUp},
	}
	for name, s := range sinks {
		var got []string
		for _, r := range s.srv.got() {
			var ev Event
			if err := json.Unmarshal(r.Body, &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.Kind)
			if ev.Title == "" || ev.At.IsZero() || ev.Fields["n"] != ev.Kind {
				t.Errorf("%s: event %+v not filled in", name, ev)
			}
		}
		if !slices.Equal(got, want[name]) { // one notifier delivers in order
			t.Errorf("%s got %v, want %v", name, got, want[name])
		}
	}
	if len(res.all) != 9 {
		t.Errorf("%d results, want 9", len(res.all))
	}
}

func TestDispatcherCloseDrains(t *testing.T) {
	var mu sync.Mutex
	var got []string
	slow := &fake{name: "slow", send: func(_ context.Context, ev Event) error {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		got = append(got, ev.Body)
		mu.Unlock()
		return nil
	}}
	flaky := 0
	retried := &fake{name: "retried", send: func(context.Context, Event) error {
		mu.Lock()
		defer mu.Unlock()
		if flaky++; flaky == 1 {
			return errors.New("first try fails")
		}
		return nil
	}}
	res := newResults()
	d := NewDispatcher([]Notifier{slow, retried}, Options{Backoff: []time.Duration{30 * time.Millisecond}, OnResult: res.add, Log: discardLog()})
	for i := range 5 {
		d.Notify(Event{Kind: EventDatabaseDown, Body: fmt.Sprint(i)})
	}
	closeNow(t, d)
	if !slices.Equal(got, []string{"0", "1", "2", "3", "4"}) {
		t.Errorf("delivered %v before Close returned", got)
	}
	if len(res.all) != 10 || flaky != 6 {
		t.Errorf("%d results, %d attempts at retried; want 10 and 6", len(res.all), flaky)
	}
	for _, r := range res.all {
		if r.Err != nil {
			t.Errorf("%+v", r)
		}
	}
	if err := d.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestDispatcherReplace(t *testing.T) {
	release := make(chan struct{})
	block := func(context.Context, Event) error { <-release; return nil }
	var mu sync.Mutex
	var byNew []string
	old := &fake{name: "ops", send: block}
	gone := &fake{name: "gone", send: func(context.Context, Event) error { return nil }}
	res := newResults()
	d := NewDispatcher([]Notifier{old, gone}, Options{OnResult: res.add})
	d.Notify(Event{Kind: EventBackupFailed, Body: "a"}) // "ops" blocks on it
	time.Sleep(20 * time.Millisecond)
	d.Notify(Event{Kind: EventBackupFailed, Body: "b"})
	d.Notify(Event{Kind: EventDatabaseDown, Body: "c"})

	updated := &fake{name: "ops", events: []string{EventDatabaseDown}, send: func(_ context.Context, ev Event) error {
		mu.Lock()
		byNew = append(byNew, ev.Body)
		mu.Unlock()
		return nil
	}}
	d.Replace([]Notifier{updated})
	d.Notify(Event{Kind: EventDatabaseDown, Body: "d"})
	d.Notify(Event{Kind: EventBackupFailed, Body: "e"}) // filtered out now
	close(release)
	closeNow(t, d)
	// Queued "b" no longer passes the new filter; "c" moved to the new
	// notifier; "a" finished on the old one.
	if !slices.Equal(byNew, []string{"c", "d"}) {
		t.Errorf("the replacement got %v, want [c d]", byNew)
	}
	var settled []string
	for _, r := range res.all {
		settled = append(settled, r.Notifier+":"+r.Event.Body)
	}
	slices.Sort(settled)
	if want := []string{"gone:a", "gone:b", "gone:c", "ops:a", "ops:c", "ops:d"}; !slices.Equal(settled, want) {
		t.Errorf("results %v, want %v", settled, want)
	}
}

func TestDispatcherSurvivesPanic(t *testing.T) {
	calls := 0
	p := &fake{name: "panics", send: func(context.Context, Event) error {
		if calls++; calls == 1 {
			panic("boom")
		}
		return nil
	}}
	res := newResults()
	d := NewDispatcher([]Notifier{p}, Options{Backoff: []time.Duration{time.Millisecond}, OnResult: res.add, Log: discardLog()})
	d.Notify(Event{Kind: EventBackupFailed})
	if r := res.next(t); r.Err != nil || r.Attempts != 2 {
		t.Errorf("result %+v, want delivered on attempt 2", r)
	}
	closeNow(t, d)
}

func TestTestBypassesFilter(t *testing.T) {
	srv := newServer(t)
	n := mustNew(t, config(KindWebhook, map[string]string{"url": srv.URL}, nil, EventBackupSucceeded))
	if err := Test(context.Background(), n); err != nil {
		t.Fatalf("Test: %v", err)
	}
	var ev Event
	if err := json.Unmarshal(srv.only(t).Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Kind != EventTest || ev.Title != "PgSafe test notification" || !strings.Contains(ev.Body, `"ops webhook" works`) {
		t.Errorf("test event = %+v", ev)
	}

	bad := newServer(t, http.StatusForbidden)
	n = mustNew(t, config(KindDiscord, nil, map[string]string{"webhook_url": bad.URL + discordPath}))
	err := Test(context.Background(), n)
	if err == nil || !strings.Contains(err.Error(), "HTTP 403 Forbidden") || strings.Contains(err.Error(), "discordSECRET") {
		t.Errorf("Test against 403: %v", err)
	}
	if len(bad.got()) != 1 {
		t.Errorf("Test retried: %d requests", len(bad.got()))
	}
}
