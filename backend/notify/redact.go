package notify

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/pgsafe/pgsafe/backend/store"
)

// redactor replaces a notifier's secret values in text. The values are kept
// as store.Secret so that printing a redactor prints nothing secret.
type redactor struct {
	secrets []store.Secret
}

// add registers values to hide, with their URL-escaped forms. Empty values
// are ignored.
func (r *redactor) add(values ...string) {
	for _, v := range values {
		for _, form := range []string{v, url.PathEscape(v), url.QueryEscape(v)} {
			if form != "" && !r.has(form) {
				r.secrets = append(r.secrets, store.NewSecret(form))
			}
		}
	}
	// Longest first, so a URL goes before its path.
	slices.SortFunc(r.secrets, func(a, b store.Secret) int { return cmp.Compare(len(b.Reveal()), len(a.Reveal())) })
}

// addURL registers a secret URL and the parts of it that carry the secret:
// path, query and password (hosts such as hooks.slack.com are no secret).
func (r *redactor) addURL(raw string) {
	r.add(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	if len(strings.Trim(u.Path, "/")) > 0 {
		r.add(u.Path, strings.Trim(u.Path, "/"))
		if u.RawPath != "" {
			r.add(u.RawPath)
		}
	}
	r.add(u.RawQuery)
	if pw, ok := u.User.Password(); ok {
		r.add(pw)
	}
}

func (r *redactor) has(v string) bool {
	return slices.ContainsFunc(r.secrets, func(s store.Secret) bool { return s.Reveal() == v })
}

// string hides every registered value in s.
func (r *redactor) string(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec.Reveal(), redacted)
	}
	return s
}

// error flattens err into a message with every secret hidden. The result
// still matches, with errors.Is and errors.As, the causes a caller may test
// for (context cancellation and deadline, ErrNoDesktop, *StatusError), but
// no other error of the chain, whose text could hold a secret.
func (r *redactor) error(err error) error {
	if err == nil {
		return nil
	}
	out := &redactedError{msg: r.string(err.Error())}
	for _, target := range []error{context.Canceled, context.DeadlineExceeded, ErrNoDesktop} {
		if errors.Is(err, target) {
			out.causes = append(out.causes, target)
		}
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		out.causes = append(out.causes, se) // its body excerpt is redacted already
	}
	return out
}

type redactedError struct {
	msg    string
	causes []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.causes }
