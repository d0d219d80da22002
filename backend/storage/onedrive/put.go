package onedrive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
)

var chunks = sync.Pool{New: func() any { b := make([]byte, ChunkSize); return &b }}

// cancelTimeout bounds cancelling a failed upload session, on a fresh
// context as the Put's may be cancelled.
const cancelTimeout = 15 * time.Second

// errSessionLost: the upload URL no longer knows the session.
var errSessionLost = errors.New("OneDrive forgot the upload (its session expired or was cancelled): the backup will be written again next time")

func (o *OneDrive) Put(ctx context.Context, name string, r io.Reader) error {
	if err := check(name); err != nil {
		return err
	}
	src := storage.NewSource(ctx, r)
	bp := chunks.Get().(*[]byte)
	defer chunks.Put(bp)
	buf := *bp
	n, err := io.ReadFull(src, buf[:SmallMax+1])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		err = o.simple(ctx, name, buf[:n])
	case err == nil:
		err = o.large(ctx, name, src, buf, n)
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("cannot upload %s to %s: %w (nothing was stored)", name, o, ctx.Err())
	case src.Err != nil && errors.Is(err, src.Err):
		return fmt.Errorf("cannot upload %s to %s: reading the data to store failed (nothing was stored): %w", name, o, err)
	case errors.Is(err, errSessionLost) || errors.Is(err, errSpool):
		return fmt.Errorf("cannot upload %s to %s: %w", name, o, err)
	}
	return o.explain(err, "upload "+name+" to")
}

// simple sends a small file in one request, replacing an older one.
func (o *OneDrive) simple(ctx context.Context, name string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
	defer cancel()
	u := o.itemURL(name, "/content") + "?@microsoft.graph.conflictBehavior=replace"
	resp, err := webapi.Do(ctx, o.client, o.retry, true, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
		if err == nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		return req, err
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return answerError(resp)
}

var errSpool = errors.New("the temporary copy failed")

// large writes the stream (its first n bytes in buf) to a temporary file,
// then sends the file through an upload session.
func (o *OneDrive) large(ctx context.Context, name string, src io.Reader, buf []byte, n int) error {
	f, err := o.spool()
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name()) // where it could not be unlinked at once
	}()
	size, err := io.Copy(f, io.MultiReader(bytes.NewReader(buf[:n]), src))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return spoolError(f.Name(), err)
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var session struct {
		UploadURL string `json:"uploadUrl"`
	}
	in := map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "replace"}}
	if err := o.call(ctx, http.MethodPost, o.itemURL(name, "/createUploadSession"), in, &session); err != nil {
		return err
	}
	if err := o.sendRanges(ctx, session.UploadURL, f, size, buf); err != nil {
		cctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		defer cancel()
		if req, rerr := http.NewRequestWithContext(cctx, http.MethodDelete, session.UploadURL, nil); rerr == nil {
			if resp, rerr := o.plain.Do(req); rerr == nil {
				resp.Body.Close()
			}
		}
		return err
	}
	return nil
}

// sendRanges PUTs the file in ChunkSize byte ranges to the upload URL,
// without the access token. The last range completes the file.
func (o *OneDrive) sendRanges(ctx context.Context, uploadURL string, f *os.File, size int64, buf []byte) error {
	for off := int64(0); off < size; {
		n := min(int64(len(buf)), size-off)
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return spoolError(f.Name(), err)
		}
		rng := fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size)
		rctx, cancel := context.WithTimeout(ctx, webapi.RequestTimeout)
		resp, err := webapi.Do(rctx, o.plain, o.retry, false, func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPut, uploadURL, bytes.NewReader(buf[:n]))
			if err == nil {
				req.Header.Set("Content-Range", rng)
			}
			return req, err
		})
		if err != nil {
			cancel()
			return err
		}
		err = answerError(resp)
		resp.Body.Close()
		cancel()
		var api *apiError
		if errors.As(err, &api) && (api.Status == http.StatusNotFound || api.Status == http.StatusRequestedRangeNotSatisfiable) {
			return fmt.Errorf("%w (%v)", errSessionLost, err)
		}
		if err != nil {
			return err
		}
		off += n
		last := off == size
		if last != (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated) {
			return fmt.Errorf("OneDrive answered HTTP %d to the byte range %s", resp.StatusCode, rng)
		}
	}
	return nil
}

// spool creates the temporary file of a large upload, unlinked at once
// where the system allows (Unix), so that nothing is left if PgSafe dies.
func (o *OneDrive) spool() (*os.File, error) {
	dir := o.spoolDir
	if dir == "" {
		if c, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(c, "pgsafe", "upload")
		} else {
			dir = os.TempDir()
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, spoolError(dir, err)
	}
	f, err := os.CreateTemp(dir, ".pgsafe-upload-*")
	if err != nil {
		return nil, spoolError(dir, err)
	}
	os.Remove(f.Name())
	return f, nil
}

func spoolError(where string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: this computer's disk is full (OneDrive needs a temporary copy of each backup in %s before sending it): free some space there: %v", errSpool, filepath.Dir(where), err)
	}
	return fmt.Errorf("%w (OneDrive needs a temporary copy of each backup before sending it): %v", errSpool, err)
}
