package onedrive

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

// apiError is an error answer of Microsoft Graph: the HTTP status and the
// error's code ("itemNotFound", "quotaLimitReached", …).
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("OneDrive answered HTTP %d: %s", e.Status, e.Code)
	}
	return fmt.Sprintf("OneDrive answered HTTP %d", e.Status)
}

// ErrSignIn: OneDrive refused PgSafe's access token (the sign-in was revoked
// or expired). Errors that wrap it say to sign in to OneDrive again.
//
// Its text is the shared sign-in's (oauth.ReauthError), which the status
// model recognises in a recorded failure: "Sign in to OneDrive again".
var ErrSignIn = errors.New("sign in to OneDrive again: the permission PgSafe was given was revoked or has expired")

// call sends a request to Graph (with the signed-in client) and decodes a
// JSON answer into out.
func (o *OneDrive) call(ctx context.Context, method, url string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
	defer cancel()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	idempotent := method != http.MethodPost
	resp, err := webapi.Do(ctx, o.client, o.retry, idempotent, func() (*http.Request, error) {
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, url, r)
		if err == nil && body != nil {
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

func answerError(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	e := &apiError{Status: resp.StatusCode}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	}
	return e
}

func isNotFound(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// explain turns an error of an operation (what: "upload 12/x.pgsafe to")
// into what happened and what to do.
func (o *OneDrive) explain(err error, what string) error {
	if err == nil {
		return nil
	}
	err = webapi.Inner(err)
	var api *apiError
	if errors.As(err, &api) {
		switch {
		case api.Status == http.StatusNotFound:
			return fmt.Errorf("cannot %s %s: %w", what, o, storage.ErrNotFound)
		case api.Status == http.StatusUnauthorized:
			return fmt.Errorf("cannot %s %s: %w", what, o, ErrSignIn)
		}
		if why := o.whyAPI(api); why != nil {
			return fmt.Errorf("cannot %s %s: %v (%w)", what, o, why, err)
		}
		return fmt.Errorf("cannot %s %s: %w", what, o, err)
	}
	if why := webapi.NetworkWhy(err, "OneDrive"); why != nil {
		return fmt.Errorf("cannot %s %s: %v (%w)", what, o, why, err)
	}
	return fmt.Errorf("cannot %s %s: %w", what, o, err)
}

func (o *OneDrive) whyAPI(e *apiError) error {
	switch {
	case e.Code == "quotaLimitReached" || e.Status == http.StatusInsufficientStorage:
		return errors.New("the OneDrive is full: free some space in it (emptying its recycle bin too), or choose another storage")
	case e.Code == "nameAlreadyExists" || e.Status == http.StatusConflict:
		return errors.New("a file or folder of that name is in the way in OneDrive")
	case strings.EqualFold(e.Code, "invalidRequest") && strings.Contains(e.Message, "not a folder"):
		return fmt.Errorf("%s is a file, not a folder: choose another folder", o.folderName())
	case e.Code == "accessDenied" || e.Status == http.StatusForbidden:
		return errors.New("OneDrive refused access (PgSafe may not write there, or the account is blocked): sign in to OneDrive again, and check the folder")
	case e.Status == http.StatusTooManyRequests || e.Code == "activityLimitReached":
		return errors.New("OneDrive is limiting PgSafe's requests (too many in a short time): try again in a few minutes")
	case e.Status == http.StatusRequestedRangeNotSatisfiable:
		return errors.New("OneDrive lost track of the upload (its session expired or another upload took its place): the backup will be written again next time")
	case e.Status >= 500:
		return errors.New("OneDrive has a problem on its side: try again later")
	case e.Status == http.StatusBadRequest:
		return errors.New("OneDrive did not understand PgSafe's request (PgSafe may need an update, or the name is not allowed in OneDrive)")
	}
	return nil
}
