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
// arrives. Memory: one chunk.
func (s *Storage) upload(ctx context.Context, id string, r io.Reader) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, s.c.UploadURL+"/files/"+url.PathEscape(id)+"?uploadType=resumable", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	resp, err := s.c.HTTP.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return apiError(resp)
	}
	session := resp.Header.Get("Location")
	if session == "" {
		return errors.New("Google Drive started no upload session")
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
		total := "*"
		if last {
			total = strconv.FormatInt(offset+int64(n), 10)
		}
		rng := "bytes */" + total
		if n > 0 {
			rng = fmt.Sprintf("bytes %d-%d/%s", offset, offset+int64(n)-1, total)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, session, bytes.NewReader(buf[:n]))
		if err != nil {
			return err
		}
		req.ContentLength = int64(n)
		req.Header.Set("Content-Range", rng)
		resp, err := s.c.HTTP.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		switch {
		case last && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated):
			return nil
		case !last && resp.StatusCode == http.StatusPermanentRedirect:
			// "Range: bytes=0-N": what Drive has; a chunk is all or nothing here.
			if got := resp.Header.Get("Range"); got != fmt.Sprintf("bytes=0-%d", offset+int64(n)-1) {
				return fmt.Errorf("Google Drive kept %q of the upload, not the %d bytes sent", got, offset+int64(n))
			}
			offset += int64(n)
		default:
			return apiError(resp)
		}
	}
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
