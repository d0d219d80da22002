package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server serves the local API: the window's services (package ui) by
// method name, the event stream, and the agent's own control. It speaks
// HTTP/1.1 with JSON bodies over the endpoint's listener, as tailscaled's
// LocalAPI does; the endpoint (Listen) is what keeps other users out.
type Server struct {
	log     *slog.Logger
	hello   Hello
	methods methods
	quit    func() // asks the agent to stop (POST /v1/quit)

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	windows int // subscribers that are windows
	onFaces func()

	http *http.Server
}

// ServerOptions configure a Server.
type ServerOptions struct {
	Hello    Hello
	Services map[string]any // "BackupService" → *ui.BackupService, …
	// Quit is called on POST /v1/quit (the tray's and `pgsafe agent stop`'s
	// "stop PgSafe"); it must return at once.
	Quit func()
	// OnWindows is called whenever a window starts or stops following the
	// events (Server.Windows says how many do now): the agent tells the
	// user, once, that it goes on when the last window closes.
	OnWindows func()
	Log       *slog.Logger
}

// subscriber is one face following GET /v1/events.
type subscriber struct {
	ch     chan Event
	window bool
	lost   bool // it fell behind and its queue overflowed: cut it off
}

// NewServer returns a server for opts.Services.
func NewServer(opts ServerOptions) (*Server, error) {
	ms, err := newMethods(opts.Services)
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Server{log: log, hello: opts.Hello, methods: ms, quit: opts.Quit, subs: map[*subscriber]struct{}{}, onFaces: opts.OnWindows}
	s.hello.API = APIVersion
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/hello", s.serveHello)
	mux.HandleFunc("POST /v1/call/{method}", s.serveCall)
	mux.HandleFunc("GET /v1/events", s.serveEvents)
	mux.HandleFunc("POST /v1/quit", s.serveQuit)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return s, nil
}

// Serve answers on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown tells every face the agent is stopping ("agent:stopping"), ends
// the event streams and stops serving.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Publish("agent:stopping", nil)
	s.mu.Lock()
	for sub := range s.subs {
		close(sub.ch)
		delete(s.subs, sub)
	}
	s.mu.Unlock()
	return s.http.Shutdown(ctx)
}

// Publish sends an event to every face following the stream. A face that
// does not keep up (its queue of 256 events is full) is cut off rather than
// slowing the agent down; it reconnects and reads the state again.
func (s *Server) Publish(name string, data any) {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			s.log.Error("event not sent: it does not encode", "event", name, "err", err)
			return
		}
		raw = b
	}
	ev := Event{Name: name, Data: raw}
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		select {
		case sub.ch <- ev:
		default:
			sub.lost = true
			close(sub.ch)
			delete(s.subs, sub)
			s.log.Warn("a face fell behind the event stream and was cut off")
		}
	}
}

func (s *Server) serveHello(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.hello)
}

func (s *Server) serveCall(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	var args []json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&args); err != nil {
		http.Error(w, "the body must be a JSON array of arguments: "+err.Error(), http.StatusBadRequest)
		return
	}
	result, err, callErr := s.methods.call(name, args)
	var ae *argError
	switch {
	case errors.Is(callErr, errUnknownMethod):
		http.Error(w, callErr.Error(), http.StatusNotFound)
		return
	case errors.As(callErr, &ae):
		http.Error(w, callErr.Error(), http.StatusBadRequest)
		return
	case callErr != nil:
		http.Error(w, callErr.Error(), http.StatusInternalServerError)
		return
	}
	var out callResult
	if pe := (*panicError)(nil); errors.As(err, &pe) {
		s.log.Error("a served method panicked", "method", name, "panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
	}
	if err != nil {
		msg := err.Error()
		out.Error = &msg
	} else if result != nil {
		b, merr := json.Marshal(result)
		if merr != nil {
			s.log.Error("a result does not encode", "method", name, "err", merr)
			http.Error(w, "the result does not encode: "+merr.Error(), http.StatusInternalServerError)
			return
		}
		out.Result = b
	}
	writeJSON(w, http.StatusOK, out)
}

// serveEvents streams events as JSON lines until the face or the agent
// goes. ?face=window marks a window (see ServerOptions.OnWindows).
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	sub := &subscriber{ch: make(chan Event, 256), window: r.URL.Query().Get("face") == "window"}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	if sub.window {
		s.windows++
		s.facesChanged()
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
		}
		if sub.window {
			s.windows--
			s.facesChanged()
		}
		s.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-sub.ch:
			if !ok {
				return
			}
			if err := enc.Encode(ev); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// facesChanged tells OnWindows (s.mu held; the callback runs on its own).
func (s *Server) facesChanged() {
	if s.onFaces != nil {
		go s.onFaces()
	}
}

// Windows says how many windows follow the event stream now.
func (s *Server) Windows() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.windows
}

func (s *Server) serveQuit(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusAccepted)
	if s.quit != nil {
		s.quit()
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
