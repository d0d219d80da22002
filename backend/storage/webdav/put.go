package webdav

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	gowebdav "github.com/emersion/go-webdav"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// cleanupTimeout bounds the DELETE of a failed Put's temporary file, which
// runs even when the Put was cancelled.
const cleanupTimeout = 15 * time.Second

func (w *WebDAV) Put(ctx context.Context, name string, r io.Reader) error {
	rname, err := rel(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.mkdirs(ctx, path.Dir(rname)); err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(path.Dir(rname), strings.Replace(storage.TempFilePattern(name), "*", hex.EncodeToString(rnd[:]), 1))

	// An empty temporary file first: servers that receive a PUT into a
	// file of their own and rename it at the end (Apache) would otherwise
	// show nothing of an upload in progress, or of one whose PgSafe was
	// killed, to RemoveTemp.
	src := storage.NewSource(ctx, r)
	err = w.put(ctx, tmp, http.NoBody)
	if err == nil {
		if w.uploads != nil {
			err = w.putNextcloud(ctx, tmp, rname, src)
		} else {
			err = w.putMove(ctx, tmp, rname, src)
		}
	}
	if err != nil {
		err = w.explainPut(ctx, err, src, name)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		w.removeTemp(dctx, tmp) // best effort: RemoveTemp sweeps what stays
		return err
	}
	if w.uploads != nil {
		// After a chunked upload the temporary file is still there, empty
		// (after a single PUT it was moved): the object is stored, so a
		// failure here is RemoveTemp's to mop up.
		w.c.RemoveAll(ctx, w.abs(tmp)) // the upload folder went with the MOVE
	}
	return nil
}

// putMove streams body onto tmp with one PUT, then MOVEs tmp over rname
// with Overwrite: T, the server's rename: the object appears whole or not
// at all.
func (w *WebDAV) putMove(ctx context.Context, tmp, rname string, body io.Reader) error {
	err := w.put(ctx, tmp, body)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = w.c.Move(ctx, w.abs(tmp), w.abs(rname), &gowebdav.MoveOptions{})
	}
	return err
}

// removeTemp deletes the temporary file tmp (relative to the folder) and,
// on Nextcloud, the upload folder that goes with it. Missing ones are fine.
func (w *WebDAV) removeTemp(ctx context.Context, tmp string) error {
	var errs []error
	if err := w.c.RemoveAll(ctx, w.abs(tmp)); err != nil && !isStatus(err, http.StatusNotFound) {
		errs = append(errs, err)
	}
	if w.uploads != nil {
		err := w.send(ctx, http.MethodDelete, w.uploadURL(uploadID(path.Base(tmp)), ""), nil, nil)
		if err != nil && !isStatus(err, http.StatusNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// put streams body to the path tmp (relative to the folder) with one PUT.
func (w *WebDAV) put(ctx context.Context, tmp string, body io.Reader) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, w.href(tmp), body)
	if err != nil {
		return err
	}
	if _, inMemory := body.(*bytes.Reader); body != http.NoBody && !inMemory {
		req.ContentLength = -1 // streamed: chunked transfer encoding, flat memory
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// explainPut explains why storing name failed.
func (w *WebDAV) explainPut(ctx context.Context, err error, src *storage.Source, name string) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case src.Err != nil:
		return fmt.Errorf("store %s: %w", name, src.Err) // the stream failed, not the server
	case isStatus(err, http.StatusConflict):
		return w.folderGone(ctx, err, name)
	case lost(err):
		return fmt.Errorf("the connection to the WebDAV server %s was lost while storing %s (%v): nothing was stored; check the network, and that the server is running", w.where(), name, err)
	}
	return w.explain(err, "store "+name)
}

// folderGone explains a 409 Conflict (a parent folder is missing).
func (w *WebDAV) folderGone(ctx context.Context, err error, name string) error {
	if _, serr := w.stat(ctx, w.base.Path); isStatus(serr, http.StatusNotFound) {
		return fmt.Errorf("cannot store %s: the folder %s no longer exists on the WebDAV server: create it again (or correct the address)", name, w.where())
	}
	return fmt.Errorf("cannot store %s on WebDAV %s: the server answered that a folder on the way is missing (%v): try again", name, w.where(), err)
}

// mkdirs creates the folders of dir (relative to the root) that are
// missing, never the root itself: MKCOL for each level, where 405 means it
// exists.
func (w *WebDAV) mkdirs(ctx context.Context, dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		err := w.c.Mkdir(ctx, w.abs(p)+"/")
		switch {
		case err == nil, isStatus(err, http.StatusMethodNotAllowed):
		case isStatus(err, http.StatusConflict):
			return w.folderGone(ctx, err, p)
		default:
			return w.explain(err, "create the folder "+p)
		}
	}
	return nil
}

// RemoveTemp removes the temporary files under prefix that stale picks,
// walking only the folders that can hold names starting with prefix. On
// Nextcloud it also DELETEs the upload folder of each (uploads/USER/
// pgsafe-RANDOM, named after the file): the chunks of a killed upload.
func (w *WebDAV) RemoveTemp(ctx context.Context, prefix string, stale func(storage.Temp) bool) ([]storage.Temp, error) {
	var out []storage.Temp
	err := w.walk(ctx, prefix, func(name string, fi entry) error {
		if !strings.HasPrefix(path.Base(name), storage.TempPrefix) {
			return nil
		}
		object, _ := storage.TempFileObject(name)
		t := storage.Temp{Name: name, Object: object, Modified: fi.Modified}
		if !stale(t) {
			return nil
		}
		if err := w.removeTemp(ctx, name); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return out, w.explain(err, "remove unfinished uploads")
	}
	return out, nil
}

// Space is the user's quota from the RFC 4331 properties
// quota-available-bytes and quota-used-bytes of the folder: free is what
// is available, total free plus used. A server that does not offer them
// (Apache) or reports no limit gives an error wrapping
// errors.ErrUnsupported.
func (w *WebDAV) Space(ctx context.Context) (free, total int64, err error) {
	body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>`
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", w.base.String(), strings.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Depth", "0")
	req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, 0, w.explain(err, "read the free space")
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, 0, w.explain(err, "read the free space")
	}
	free, used, err := ParseQuota(b)
	if err != nil {
		return 0, 0, fmt.Errorf("the WebDAV server %s does not tell its free space: %w", w.where(), err)
	}
	return free, free + used, nil
}

// Free is Space's free.
func (w *WebDAV) Free(ctx context.Context) (int64, error) {
	free, _, err := w.Space(ctx)
	return free, err
}

// ParseQuota reads quota-available-bytes and quota-used-bytes from a
// PROPFIND's multistatus answer. Missing properties, or the negative values
// Nextcloud uses for "unknown" and "unlimited", are errors.ErrUnsupported.
func ParseQuota(multistatus []byte) (free, used int64, err error) {
	var ms struct {
		Responses []struct {
			Propstats []struct {
				Status string `xml:"DAV: status"`
				Avail  string `xml:"DAV: prop>quota-available-bytes"`
				Used   string `xml:"DAV: prop>quota-used-bytes"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.NewDecoder(bytes.NewReader(multistatus)).Decode(&ms); err != nil {
		return 0, 0, fmt.Errorf("unreadable answer (%v): %w", err, errors.ErrUnsupported)
	}
	free, used = -1, 0
	for _, r := range ms.Responses {
		for _, ps := range r.Propstats {
			if !strings.Contains(ps.Status, " 200") {
				continue
			}
			if v, err := strconv.ParseInt(strings.TrimSpace(ps.Avail), 10, 64); err == nil {
				free = v
			}
			if v, err := strconv.ParseInt(strings.TrimSpace(ps.Used), 10, 64); err == nil && v >= 0 {
				used = v
			}
		}
	}
	if free < 0 {
		return 0, 0, fmt.Errorf("no quota (RFC 4331) for this folder: %w", errors.ErrUnsupported)
	}
	return free, used, nil
}
