package dropbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pgsafe/pgsafe/backend/storage"
)

var chunks = sync.Pool{New: func() any { b := make([]byte, ChunkSize); return &b }}

type cursor struct {
	SessionID string `json:"session_id"`
	Offset    int64  `json:"offset"`
}

// commit is where finish (or files/upload) puts the file: overwrite replaces
// an older file in one step; mute keeps the user's devices quiet.
func commit(path string) map[string]any {
	return map[string]any{"path": path, "mode": "overwrite", "autorename": false, "mute": true}
}

func (d *Dropbox) Put(ctx context.Context, name string, r io.Reader) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	src := storage.NewSource(ctx, r)
	bp := chunks.Get().(*[]byte)
	defer chunks.Put(bp)
	err = d.put(ctx, p, src, *bp)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("cannot upload %s to %s: %w (nothing was stored)", name, d, ctx.Err())
	case src.Err != nil && errors.Is(err, src.Err):
		return fmt.Errorf("cannot upload %s to %s: reading the data to store failed (nothing was stored): %w", name, d, err)
	}
	return d.explain(err, "upload "+name+" to")
}

// put sends the stream: one files/upload if it fits in a chunk, else an
// upload session whose finish commits the file. An error before finish
// leaves only the session, which Dropbox drops.
func (d *Dropbox) put(ctx context.Context, p string, src io.Reader, buf []byte) error {
	n, err := io.ReadFull(src, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return d.upload(ctx, "files/upload", commit(p), buf[:n], true, nil)
	}
	if err != nil {
		return err
	}
	var start struct {
		SessionID string `json:"session_id"`
	}
	if err := d.upload(ctx, "files/upload_session/start", map[string]any{"close": false}, buf[:n], false, &start); err != nil {
		return err
	}
	c := cursor{SessionID: start.SessionID, Offset: int64(n)}
	for {
		n, err := io.ReadFull(src, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if err := ctx.Err(); err != nil {
				return err
			}
			return d.upload(ctx, "files/upload_session/finish", map[string]any{"cursor": c, "commit": commit(p)}, buf[:n], false, nil)
		}
		if err != nil {
			return err
		}
		if err := d.appendChunk(ctx, &c, buf[:n]); err != nil {
			return err
		}
	}
}

// appendChunk appends data at c's offset and moves the offset on. A repeat
// of an append whose answer was lost gets incorrect_offset with the offset
// after it: then the data is there.
func (d *Dropbox) appendChunk(ctx context.Context, c *cursor, data []byte) error {
	arg := map[string]any{"cursor": *c, "close": false}
	err := d.upload(ctx, "files/upload_session/append_v2", arg, data, true, nil)
	if err != nil {
		var api *apiError
		if !errors.As(err, &api) || !api.is("incorrect_offset") {
			return err
		}
		// Ask where the session is: the error's correct_offset.
		if api.CorrectOffset != c.Offset+int64(len(data)) {
			return fmt.Errorf("the upload session is at byte %d, not %d: %w", api.CorrectOffset, c.Offset, err)
		}
	}
	c.Offset += int64(len(data))
	return nil
}
