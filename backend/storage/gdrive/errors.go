package gdrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/storage"
)

// APIError is Drive's answer to a request it refused.
type APIError struct {
	Status  int
	Reason  string // Drive's error reason, e.g. storageQuotaExceeded
	Message string
}

func (e *APIError) Error() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "Google Drive refused PgSafe's sign-in: sign in to Google Drive again"
	case e.Reason == "storageQuotaExceeded" || e.Reason == "quotaExceeded":
		return "Google Drive is full: free space in it or buy more, then back up again"
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("Google Drive refused the request (%s): check that the folder is PgSafe's and the account can write to it", e.Reason)
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return fmt.Sprintf("Google Drive is not answering properly (HTTP %d): try again later", e.Status)
	}
	return fmt.Sprintf("Google Drive answered HTTP %d (%s)", e.Status, e.Message)
}

func apiError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var r struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	json.Unmarshal(body, &r)
	e := &APIError{Status: resp.StatusCode, Message: r.Error.Message}
	if len(r.Error.Errors) > 0 {
		e.Reason = r.Error.Errors[0].Reason
	}
	if e.Message == "" {
		e.Message = resp.Status
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w (%s)", storage.ErrNotFound, e.Message)
	}
	return e
}

// call sends a JSON request and decodes a JSON answer into out (if set).
func (s *Storage) call(ctx context.Context, method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	}
	resp, err := s.c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return apiError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("Google Drive's answer makes no sense: %w", err)
	}
	return nil
}

// wrap says what the storage was doing. A grant the user must renew
// (oauth.ReauthError) comes first, in its own words, so the status model
// recognises it; a network failure says Google Drive cannot be reached.
func (s *Storage) wrap(doing string, err error) error {
	var re *oauth.ReauthError
	if errors.As(err, &re) {
		return re
	}
	var ae *APIError
	if errors.As(err, &ae) || errors.Is(err, storage.ErrNotFound) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s in %s: %w", doing, s, err)
	}
	return fmt.Errorf("%s in %s: cannot reach Google Drive (check the internet connection): %w", doing, s, err)
}
