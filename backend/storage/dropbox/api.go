package dropbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
)

// apiError is an error answer of the Dropbox API: the HTTP status, and for
// an endpoint's own errors (409) the error_summary, e.g.
// "path/not_found/..".
type apiError struct {
	Status  int
	Summary string
	// CorrectOffset is where an upload session is, in an incorrect_offset
	// error.
	CorrectOffset int64
}

func (e *apiError) Error() string {
	if e.Summary != "" {
		return fmt.Sprintf("Dropbox answered HTTP %d: %s", e.Status, e.Summary)
	}
	return fmt.Sprintf("Dropbox answered HTTP %d", e.Status)
}

// is reports whether the error's summary starts with tag ("path/not_found").
func (e *apiError) is(tag string) bool { return strings.HasPrefix(e.Summary, tag) }

// ErrSignIn: Dropbox refused PgSafe's access token (the sign-in was revoked
// or expired). Errors that wrap it say to sign in to Dropbox again.
//
// Its text is the shared sign-in's (oauth.ReauthError), which the status
// model recognises in a recorded failure: "Sign in to Dropbox again".
var ErrSignIn = errors.New("sign in to Dropbox again: the permission PgSafe was given was revoked or has expired")

// rpc calls an RPC endpoint (on the API host: JSON in, JSON out).
func (d *Dropbox) rpc(ctx context.Context, endpoint string, arg, out any) error {
	ctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
	defer cancel()
	body := []byte("null")
	if arg != nil {
		var err error
		if body, err = json.Marshal(arg); err != nil {
			return err
		}
	}
	resp, err := webapi.Do(ctx, d.client, d.retry, true, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, d.api+"/2/"+endpoint, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := answerError(resp); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// upload calls a content-upload endpoint: arg in the Dropbox-API-Arg header,
// data as the body, JSON out. Only idempotent calls are retried on server
// and network errors; every call is retried when rate limited.
func (d *Dropbox) upload(ctx context.Context, endpoint string, arg any, data []byte, idempotent bool, out any) error {
	ctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
	defer cancel()
	header, err := argHeader(arg)
	if err != nil {
		return err
	}
	resp, err := webapi.Do(ctx, d.client, d.retry, idempotent, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, d.content+"/2/"+endpoint, bytes.NewReader(data))
		if err == nil {
			req.Header.Set("Content-Type", "application/octet-stream")
			req.Header.Set("Dropbox-API-Arg", header)
		}
		return req, err
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := answerError(resp); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// download calls files/download and returns the response, whose body is
// the file.
func (d *Dropbox) download(ctx context.Context, path string) (*http.Response, error) {
	header, err := argHeader(map[string]string{"path": path})
	if err != nil {
		return nil, err
	}
	resp, err := webapi.Do(ctx, d.client, d.retry, true, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, d.content+"/2/files/download", nil)
		if err == nil {
			req.Header.Set("Dropbox-API-Arg", header)
		}
		return req, err
	})
	if err != nil {
		return nil, err
	}
	if err := answerError(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// argHeader is arg as JSON fit for an HTTP header: Dropbox asks for every
// character above 0x7E escaped as \uXXXX.
func argHeader(arg any) (string, error) {
	b, err := json.Marshal(arg)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, r := range string(b) {
		switch {
		case r < 0x7f:
			sb.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&sb, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
	}
	return sb.String(), nil
}

// answerError returns the error a non-2xx response stands for.
func answerError(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	e := &apiError{Status: resp.StatusCode}
	var body struct {
		Summary string `json:"error_summary"`
		Error   struct {
			CorrectOffset int64 `json:"correct_offset"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil {
		e.Summary, e.CorrectOffset = body.Summary, body.Error.CorrectOffset
	} else if resp.StatusCode == http.StatusBadRequest {
		e.Summary = strings.ToValidUTF8(string(b[:min(len(b), 300)]), "")
	}
	return e
}

// explain turns an error of an operation (what: "upload 12/x.pgsafe to")
// into what happened and what to do.
func (d *Dropbox) explain(err error, what string) error {
	if err == nil {
		return nil
	}
	err = webapi.Inner(err)
	var api *apiError
	if errors.As(err, &api) {
		switch {
		case api.is("path/not_found"), api.is("path_lookup/not_found"), api.is("path/not_file"):
			return fmt.Errorf("cannot %s %s: %w", what, d, storage.ErrNotFound)
		case api.Status == http.StatusUnauthorized:
			return fmt.Errorf("cannot %s %s: %w", what, d, ErrSignIn)
		}
		if why := d.whyAPI(api); why != nil {
			return fmt.Errorf("cannot %s %s: %v (%w)", what, d, why, err)
		}
		return fmt.Errorf("cannot %s %s: %w", what, d, err)
	}
	if why := webapi.NetworkWhy(err, "Dropbox"); why != nil {
		return fmt.Errorf("cannot %s %s: %v (%w)", what, d, why, err)
	}
	return fmt.Errorf("cannot %s %s: %w", what, d, err)
}

func (d *Dropbox) whyAPI(e *apiError) error {
	switch {
	case e.is("path/insufficient_space"), e.is("path/too_large"), strings.Contains(e.Summary, "insufficient_space"):
		return errors.New("the Dropbox account is full: free some space in it, or choose another storage")
	case strings.Contains(e.Summary, "no_write_permission"):
		return errors.New("PgSafe may not write to this Dropbox folder (it may be a shared folder that is read-only to you): choose another folder")
	case strings.Contains(e.Summary, "disallowed_name"), strings.Contains(e.Summary, "malformed_path"):
		return errors.New("Dropbox does not allow this name")
	case e.is("path/not_folder"), strings.Contains(e.Summary, "not_folder"):
		return fmt.Errorf("%s is a file, not a folder: choose another folder", d.folderName())
	case strings.Contains(e.Summary, "not_found") && strings.HasPrefix(e.Summary, "lookup_failed"):
		return errors.New("Dropbox forgot the upload (its session expired or was closed): the backup will be written again next time")
	case e.Status == http.StatusForbidden:
		return errors.New("Dropbox refused access (the app may not use this account or folder): sign in to Dropbox again, and check the folder")
	case e.Status == http.StatusTooManyRequests:
		return errors.New("Dropbox is limiting PgSafe's requests (too many in a short time): try again in a few minutes")
	case e.Status >= 500:
		return errors.New("Dropbox has a problem on its side: try again later")
	case e.Status == http.StatusBadRequest:
		return errors.New("Dropbox did not understand PgSafe's request (PgSafe may need an update)")
	}
	return nil
}
