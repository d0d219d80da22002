package webdav

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Nextcloud's chunked upload (chunking v2, also ownCloud's new DAV
// endpoint): MKCOL an upload folder under /remote.php/dav/uploads/USER/,
// PUT numbered chunks into it, MOVE its ".file" onto the final name (the
// server assembles the chunks there; that MOVE is the commit), DELETE the
// folder to give up. Every request carries the final file's URL in
// Destination. Each request stays small, so proxies that refuse large
// bodies (413) do not stop big backups.
const (
	// chunkSize is each chunk but the last: Nextcloud wants 5 MiB to
	// 5 GiB. One chunk is held in memory at a time.
	chunkSize = 10 << 20
	// maxChunks is the highest chunk number Nextcloud takes.
	maxChunks = 10000
	// ncFiles marks a folder address on Nextcloud's (ownCloud's) new DAV
	// endpoint: .../remote.php/dav/files/USER/...
	ncFiles = "/remote.php/dav/files/"
)

// nextcloudUploads is the uploads folder (…/remote.php/dav/uploads/USER/)
// of a folder address on Nextcloud's DAV endpoint, or nil for any other
// WebDAV server (one streaming PUT per object there).
func nextcloudUploads(base *url.URL) *url.URL {
	i := strings.Index(base.Path, ncFiles)
	if i < 0 {
		return nil
	}
	user, _, ok := strings.Cut(base.Path[i+len(ncFiles):], "/")
	if !ok || user == "" {
		return nil
	}
	u := *base
	u.Path, u.RawPath = base.Path[:i]+"/remote.php/dav/uploads/"+user+"/", ""
	return &u
}

// uploadID is the name of the upload folder that goes with the temporary
// file tmp (".pgsafe-tmp-OBJECT~RANDOM"): "pgsafe-RANDOM". RemoveTemp finds
// a killed upload's folder from its temporary file this way.
func uploadID(tmp string) string {
	return "pgsafe-" + tmp[strings.LastIndex(tmp, "~")+1:]
}

// uploadURL is the URL of a file in the upload folder id ("" for the folder).
func (w *WebDAV) uploadURL(id, file string) string {
	u := *w.uploads
	u.Path += id + "/" + file
	return u.String()
}

// putNextcloud stores src as rname: a stream that fits in one chunk with
// one PUT onto tmp and a MOVE (as on any server), a bigger one in chunks
// into the upload folder of tmp, assembled onto rname by MOVE of ".file".
func (w *WebDAV) putNextcloud(ctx context.Context, tmp, rname string, src io.Reader) error {
	buf := make([]byte, chunkSize)
	n, err := io.ReadFull(src, buf)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF: // all of it is in buf
		return w.putMove(ctx, tmp, rname, bytes.NewReader(buf[:n]))
	case nil:
	default:
		return err
	}
	id, dest := uploadID(tmp), w.href(rname)
	hdr := map[string]string{"Destination": dest}
	if err := w.send(ctx, "MKCOL", w.uploadURL(id, ""), nil, hdr); err != nil {
		return err
	}
	var total int64
	last := false
	for i := 1; n > 0; i++ {
		if i > maxChunks {
			return fmt.Errorf("the object is larger than Nextcloud's chunked upload takes (%d chunks of %d MiB)", maxChunks, chunkSize>>20)
		}
		if err := w.send(ctx, http.MethodPut, w.uploadURL(id, strconv.Itoa(i)), buf[:n], hdr); err != nil {
			return err
		}
		total += int64(n)
		if last {
			break
		}
		n, err = io.ReadFull(src, buf)
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			last = true
		default:
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return w.send(ctx, "MOVE", w.uploadURL(id, ".file"), nil, map[string]string{
		"Destination": dest, "OC-Total-Length": strconv.FormatInt(total, 10), "Overwrite": "T",
	})
}

// send makes one request with a body held in memory (nil: none).
func (w *WebDAV) send(ctx context.Context, method, url string, body []byte, hdr map[string]string) error {
	var r io.Reader = http.NoBody
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
