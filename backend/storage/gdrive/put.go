package gdrive

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
)

// tempPrefix starts a placeholder's name: ".pgsafe-tmp-<object>~<random>".
const tempPrefix = ".pgsafe-tmp-"

// Put stores r under name, all or nothing (see the package comment).
func (s *Storage) Put(ctx context.Context, name string, r io.Reader) (err error) {
	var rnd [6]byte
	rand.Read(rnd[:])
	var tmp file
	if err := s.call(ctx, http.MethodPost, s.c.APIURL+"/files?fields="+fileFields,
		map[string]any{"name": tempPrefix + name + "~" + hex.EncodeToString(rnd[:]), "parents": []string{s.folderID}}, &tmp); err != nil {
		return s.wrap("store "+name, err)
	}
	defer func() {
		if err != nil {
			// A cancelled Put still removes its placeholder.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			s.deleteFile(cctx, tmp.ID)
		}
	}()
	if err := s.upload(ctx, tmp.ID, r); err != nil {
		return s.wrap("store "+name, err)
	}
	older, err := s.inFolder(ctx, name)
	if err != nil {
		return s.wrap("store "+name, err)
	}
	if err := s.call(ctx, http.MethodPatch, s.c.APIURL+"/files/"+url.PathEscape(tmp.ID)+"?fields="+fileFields, map[string]any{"name": name}, nil); err != nil {
		return s.wrap("store "+name, err)
	}
	// The new file holds the name now (newest first); the older ones go.
	for _, f := range older {
		if err := s.deleteFile(context.WithoutCancel(ctx), f.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return s.wrap("replace "+name, err)
		}
	}
	return nil
}

// upload sends r as the content of file id with a resumable upload: one
// session, fixed chunks; the content changes only when the last chunk
// arrives. Memory: one chunk, kept until the session has all of it so that
// what a failure lost can be sent again.
func (s *Storage) upload(ctx context.Context, id string, r io.Reader) error {
	session, err := s.startSession(ctx, id)
	if err != nil {
		return err
	}
	buf := make([]byte, s.c.Chunk)
	var carry [1]byte
	haveCarry := false
	var offset int64
	for {
		n := 0
		if haveCarry {
			buf[0] = carry[0]
			n = 1
		}
		m, err := io.ReadFull(r, buf[n:])
		n += m
		last := false
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		case err != nil:
			return fmt.Errorf("read the backup stream: %w", err)
		default:
			// A full chunk: one byte more says whether it was the last.
			k, err := io.ReadFull(r, carry[:])
			haveCarry = k == 1
			if errors.Is(err, io.EOF) {
				last = true
			} else if err != nil {
				return fmt.Errorf("read the backup stream: %w", err)
			}
		}
		err = s.sendChunk(ctx, session, buf[:n], offset, last)
		// A session that expired before anything but this chunk went up
		// can be started again; later, the bytes before it are gone.
		for restarts := 1; errors.Is(err, errSessionGone) && offset == 0 && restarts < s.c.Retry.Attempts; restarts++ {
			if session, err = s.startSession(ctx, id); err != nil {
				return err
			}
			err = s.sendChunk(ctx, session, buf[:n], offset, last)
		}
		if err != nil || last {
			return err
		}
		offset += int64(n)
	}
}

// startSession starts a resumable upload into file id and returns the
// session's URI.
func (s *Storage) startSession(ctx context.Context, id string) (string, error) {
	rctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
	defer cancel()
	// Starting again only leaves an unused session, which Drive drops.
	resp, err := webapi.Do(rctx, s.c.HTTP, s.c.Retry, true, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPatch, s.c.UploadURL+"/files/"+url.PathEscape(id)+"?uploadType=resumable", strings.NewReader("{}"))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		}
		return req, err
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", apiError(resp)
	}
	session := resp.Header.Get("Location")
	if session == "" {
		return "", errors.New("Google Drive started no upload session: try again later")
	}
	return session, nil
}

// errSessionGone: the upload session answered 404 (or 410), Drive's word
// for an expired session, which must start over.
var errSessionGone = errors.New("Google Drive dropped the upload session (HTTP 404) after part of the backup had gone up, so the upload cannot resume: back up again")

// sendChunk sends chunk, the upload's bytes from offset on (its last ones
// if last), until the session holds all of it. Drive may keep less than
// was sent (a 308 whose Range ends early): the rest is sent again. After a
// rate limit, a server error or a cut connection it waits (backoff, or the
// Retry-After), asks the session what it kept — PUT with no body and
// Content-Range "bytes */<total or *>", answered 308 with "Range:
// bytes=0-N" — and resumes from N+1; at most s.c.Retry.Attempts failures
// in a row without progress (developers.google.com/drive/api/guides/manage-uploads#resumable).
func (s *Storage) sendChunk(ctx context.Context, session string, chunk []byte, offset int64, last bool) error {
	end := offset + int64(len(chunk))
	total := "*"
	if last {
		total = strconv.FormatInt(end, 10)
	}
	kept := offset // the session holds bytes [0, kept)
	query := false
	failures := 0
	for {
		var body []byte
		rng := "bytes */" + total
		if !query && kept < end {
			body = chunk[kept-offset:]
			rng = fmt.Sprintf("bytes %d-%d/%s", kept, end-1, total)
		}
		resp, err := s.put(ctx, session, body, rng)
		var failed error
		switch {
		case err != nil:
			if ctx.Err() != nil || !webapi.RetryableNet(err) {
				return err
			}
			failed = err
		case last && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated):
			return nil
		case resp.StatusCode == http.StatusPermanentRedirect:
			k, err := keptUpTo(resp.Header.Get("Range"))
			switch {
			case err != nil:
				return err
			case k < offset:
				return fmt.Errorf("Google Drive lost part of the upload it had confirmed (it holds %d bytes, had %d): back up again", k, offset)
			case k > end:
				return fmt.Errorf("Google Drive holds %d bytes of an upload that has sent %d: back up again", k, end)
			case k == end && !last:
				return nil
			case k > kept:
				kept, failures, query = k, 0, false
				continue
			case query:
				// The status after a failure: send from where it says.
				query = false
				continue
			}
			// No progress: Drive answered without taking what was sent.
			failed = fmt.Errorf("Google Drive took none of the upload's bytes from %d on", kept)
			query = false
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
			return errSessionGone
		case retryable(resp):
			failed = apiError(resp)
			query = true
		default:
			return apiError(resp)
		}
		failures++
		if failures >= s.c.Retry.Attempts {
			return failed
		}
		if err := webapi.Pause(ctx, s.c.Retry.Wait(resp, failures)); err != nil {
			return err
		}
		if err != nil {
			query = true // a cut connection: what arrived is unknown
		}
	}
}

// put sends one chunk (or, with no body, a status query) to the session.
// The answer's body (an error's JSON, or the file's metadata) is read
// before the request's timeout ends.
func (s *Storage) put(ctx context.Context, session string, body []byte, rng string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, session, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Range", rng)
	resp, err := s.c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// keptUpTo reads a 308's Range ("bytes=0-N"): the session holds N+1
// bytes; no Range, none.
func keptUpTo(h string) (int64, error) {
	if h == "" {
		return 0, nil
	}
	last, ok := strings.CutPrefix(h, "bytes=0-")
	n, err := strconv.ParseInt(last, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("Google Drive's upload session answered a Range that makes no sense (%q): back up again", h)
	}
	return n + 1, nil
}

// RemoveTemp removes the placeholders under prefix that stale picks (those
// of Puts whose process was killed).
func (s *Storage) RemoveTemp(ctx context.Context, prefix string, stale func(storage.Temp) bool) ([]storage.Temp, error) {
	fs, err := s.inFolder(ctx, "")
	if err != nil {
		return nil, s.wrap("list temporary files", err)
	}
	var out []storage.Temp
	for _, f := range fs {
		rest, ok := strings.CutPrefix(f.Name, tempPrefix)
		if !ok {
			continue
		}
		obj := rest
		if i := strings.LastIndex(rest, "~"); i >= 0 {
			obj = rest[:i]
		}
		if !strings.HasPrefix(obj, prefix) {
			continue
		}
		t := storage.Temp{Name: f.Name, Object: obj, Modified: f.ModifiedTime}
		if !stale(t) {
			continue
		}
		if err := s.deleteFile(ctx, f.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return out, s.wrap("remove "+f.Name, err)
		}
		out = append(out, t)
	}
	return out, nil
}
