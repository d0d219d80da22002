package ui

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/store"
)

// NotifierService is the Notifications screen: email, chat, webhook and
// desktop notifiers, each with "Send test". Secrets are write-only: the UI
// sets them and learns only which are set.
type NotifierService struct{ core *Core }

// NewNotifierService returns the service bound as NotifierService.
func NewNotifierService(c *Core) *NotifierService { return &NotifierService{core: c} }

// NotifierView is a stored notifier as the UI sees it.
type NotifierView struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	Enabled    bool              `json:"enabled"`
	Events     []string          `json:"events"` // empty: the defaults
	Settings   map[string]string `json:"settings"`
	SecretsSet []string          `json:"secretsSet"` // names of the secrets that are set
}

// NotifierForm is the add form; Secrets go to the Go side only.
type NotifierForm struct {
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	Events   []string          `json:"events"`
	Settings map[string]string `json:"settings"`
	Secrets  map[string]string `json:"secrets"`
}

func (f NotifierForm) config() store.NotifierConfig { return engine.NotifierInput(f).Config() }

// Events lists the events a notifier can receive, with labels.
func (s *NotifierService) Events() []notify.EventInfo { return engine.NotifierEvents() }

// List is every notifier, secrets withheld.
func (s *NotifierService) List() ([]NotifierView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	ns, err := e.Notifiers(context.Background())
	if err != nil {
		return nil, err
	}
	out := []NotifierView{}
	for _, n := range ns {
		v := NotifierView{ID: n.ID, Name: n.Name, Kind: n.Kind, Enabled: n.Enabled, Events: n.Events, Settings: n.Settings,
			SecretsSet: engine.NotifierSecretsSet(n)}
		if v.Events == nil {
			v.Events = []string{}
		}
		if v.Settings == nil {
			v.Settings = map[string]string{}
		}
		out = append(out, v)
	}
	return out, nil
}

// Add checks and stores a notifier.
func (s *NotifierService) Add(f NotifierForm) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	_, err = e.AddNotifier(context.Background(), f.config())
	return err
}

// TestForm sends a test notification through the form's notifier, unsaved.
func (s *NotifierService) TestForm(f NotifierForm) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.TestNotifierConfig(context.Background(), f.config())
}

// Test sends a test notification through the named notifier.
func (s *NotifierService) Test(name string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.TestNotifier(context.Background(), name)
}

// Remove deletes the named notifier.
func (s *NotifierService) Remove(name string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.RemoveNotifier(context.Background(), name)
}

// DesktopNotify shows a message in the desktop's notification area now (the
// app's own hints, such as "PgSafe keeps running in the tray").
func DesktopNotify(ctx context.Context, title, body string) error {
	return engine.DesktopNotify(ctx, title, body)
}
