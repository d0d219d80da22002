package gdrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
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
	case e.rateLimited():
		return fmt.Sprintf("Google Drive kept limiting PgSafe's requests (HTTP %d %s) after several tries: too many requests were made to this account; wait a few minutes, then try again", e.Status, e.Reason)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("Google Drive refused the request (%s): check that the folder is PgSafe's and the account can write to it", e.Reason)
	case e.Status >= 500:
		return fmt.Sprintf("Google Drive kept failing with a server error (HTTP %d %s) after several tries: Google's service is in trouble; wait a few minutes, then try again", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("Google Drive answered HTTP %d (%s)", e.Status, e.Message)
}

// rateLimited: a 429, or a 403 whose reason says a rate limit.
func (e *APIError) rateLimited() bool {
	return e.Status == http.StatusTooManyRequests ||
		e.Status == http.StatusForbidden && (e.Reason == "rateLimitExceeded" || e.Reason == "userRateLimitExceeded")
}

// rateLimited says whether resp is Drive's 403 rate limit (webapi.Retry's
// RateLimited hook); it leaves the body readable.
func rateLimited(resp *http.Response) bool {
	if resp.StatusCode != http.StatusForbidden {
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return parseError(resp.StatusCode, body).rateLimited()
}

// retryable says a chunk PUT's or status query's answer is worth another
// try: a rate limit or a server error.
func retryable(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, 500, 502, 503, 504:
		return true
	}
	return rateLimited(resp)
}

func apiError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := parseError(resp.StatusCode, body)
	if e.Message == "" {
		e.Message = resp.Status
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w (%s)", storage.ErrNotFound, e.Message)
	}
	return e
}

func parseError(status int, body []byte) *APIError {
	var r struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	json.Unmarshal(body, &r)
	e := &APIError{Status: status, Message: r.Error.Message}
	if len(r.Error.Errors) > 0 {
		e.Reason = r.Error.Errors[0].Reason
	}
	return e
}

// call sends a JSON request and decodes a JSON answer into out (if set),
// retrying rate limits and server errors within s.c.Retry (a POST, which
// creates a file, only those Google says did nothing: 429, 503, 403 rate
// limits).
func (s *Storage) call(ctx context.Context, method, url string, in, out any) error {
	var b []byte
	if in != nil {
		var err error
		if b, err = json.Marshal(in); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
	defer cancel()
	resp, err := webapi.Do(ctx, s.c.HTTP, s.c.Retry, method != http.MethodPost, func() (*http.Request, error) {
		var body io.Reader
		if in != nil {
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			return nil, err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		}
		return req, nil
	})
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
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s in %s: cannot reach Google Drive (check the internet connection): %w", doing, s, err)
	}
	return fmt.Errorf("%s in %s: %w", doing, s, err)
}
