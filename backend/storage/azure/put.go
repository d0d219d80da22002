package azure

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// Block blob limits, and how blocks grow.
const (
	maxBlocks     = 50000
	maxBlockSize  = 4000 << 20
	firstBlock    = 8 << 20
	blocksPerStep = 5000 // blocks of one size before it doubles
)

// discardTimeout bounds discarding a failed upload's blocks, which runs on a
// fresh context as the Put's may be cancelled.
const discardTimeout = 15 * time.Second

// blockSize is the size of block n (1 to maxBlocks): firstBlock for the
// first blocksPerStep blocks, doubling every blocksPerStep, at most
// maxBlockSize. 5000 blocks of 8 MiB hold 39 GiB, all 50,000 about 39 TiB;
// memory grows only for backups past 39 GiB.
func blockSize(n int) int64 {
	return min(int64(firstBlock)<<((n-1)/blocksPerStep), maxBlockSize)
}

// blockID is block n's ID for the upload called upload: base64 of equal
// length for every block of a blob, as Azure requires.
func blockID(upload string, n int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "pgsafe-%s-%05d", upload, n))
}

var blockblobUploadOptionsIfNone = blockblob.UploadOptions{AccessConditions: &blob.AccessConditions{
	ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}}

func (s *Azure) Put(ctx context.Context, name string, r io.Reader) error {
	b, err := s.blobName(name)
	if err != nil {
		return err
	}
	bb := s.container.NewBlockBlobClient(b)
	src := &source{storage.NewSource(ctx, r)}
	buf := getBuf(blockSize(1))
	n, full, err := src.fill(buf)
	if err == nil && !full {
		_, err = bb.Upload(ctx, nopCloser{bytes.NewReader(buf[:n])}, &blockblob.UploadOptions{
			TransactionalValidation: blob.TransferValidationTypeMD5(md5sum(buf[:n]))})
		if err == nil {
			putBuf(buf)
		}
	} else if err == nil {
		err = s.blocks(ctx, bb, b, src, buf)
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("cannot upload %s to %s: %w (nothing was stored)", name, s, ctx.Err())
	case src.Err != nil && errors.Is(err, src.Err):
		return fmt.Errorf("cannot upload %s to %s: reading the data to store failed (nothing was stored): %w", name, s, err)
	}
	return s.explain(err, "upload "+name+" to")
}

// blocks stages the stream whose first block is in first and commits the
// block list if all went well; otherwise it discards the staged blocks.
func (s *Azure) blocks(ctx context.Context, bb *blockblob.Client, b string, src *source, first []byte) error {
	id := make([]byte, 8)
	rand.Read(id)
	upload := hex.EncodeToString(id)
	// The first block is staged before the stream is read further: from
	// then on the unfinished upload is there for RemoveTemp to see.
	err := stage(ctx, bb, blockID(upload, 1), first)
	var ids []string
	if err == nil {
		ids, err = s.sendBlocks(ctx, bb, upload, src, first)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		_, err = bb.CommitBlockList(ctx, ids, nil)
	}
	if err != nil {
		s.abandon(b)
	}
	return err
}

func stage(ctx context.Context, bb *blockblob.Client, id string, b []byte) error {
	_, err := bb.StageBlock(ctx, id, nopCloser{bytes.NewReader(b)}, &blockblob.StageBlockOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(md5sum(b))})
	return err
}

// sendBlocks stages block after block from the second on (the first is
// staged), reading the next one while the previous one uploads; two buffers
// take turns. It returns every block's ID when the stream ended and every
// block was staged, or the first error (after the block in flight, if any,
// returned). It owns first.
func (s *Azure) sendBlocks(ctx context.Context, bb *blockblob.Client, upload string, src *source, first []byte) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src.SetContext(ctx) // an upload error stops the reading too

	type block struct {
		n int
		b []byte
	}
	todo := make(chan block)     // unbuffered: at most one block read ahead
	free := make(chan []byte, 2) // buffers back from the uploader
	free <- first
	ids := []string{blockID(upload, 1)}
	var upErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range todo {
			if upErr == nil {
				id := blockID(upload, p.n)
				if upErr = stage(ctx, bb, id, p.b); upErr != nil {
					cancel()
				} else {
					ids = append(ids, id)
				}
			}
			free <- p.b
		}
	}()

	readErr := func() error {
		for n := 2; ; n++ {
			if n > maxBlocks {
				_, more, err := src.fill(make([]byte, 1))
				if err == nil && more {
					err = fmt.Errorf("the data is larger than an Azure block blob can be (%d blocks)", maxBlocks)
				}
				return err
			}
			var buf []byte
			select {
			case buf = <-free:
			default: // the previous block is still uploading: a second buffer
			}
			size := blockSize(n)
			if int64(cap(buf)) < size {
				buf = getBuf(size)
			}
			k, full, err := src.fill(buf[:size])
			if err != nil {
				return err
			}
			if k == 0 {
				free <- buf
				return nil
			}
			todo <- block{n, buf[:k]}
			if !full {
				return nil
			}
		}
	}()
	close(todo)
	<-done
	if upErr != nil {
		return nil, upErr
	}
	if readErr == nil {
		// Only now: after a failed request, the HTTP client may still read
		// its body.
		close(free)
		for b := range free {
			putBuf(b)
		}
	}
	return ids, readErr
}

// abandon discards the blocks a failed Put staged for blob b, on a fresh
// context.
func (s *Azure) abandon(b string) {
	ctx, cancel := context.WithTimeout(context.Background(), discardTimeout)
	defer cancel()
	gone, err := s.discard(ctx, b)
	switch {
	case err != nil:
		slog.Warn("could not discard the blocks of an unfinished Azure upload: Azure removes them after a week without a write",
			"storage", s.String(), "blob", b, "err", describe(err))
	case !gone:
		slog.Info("an older blob of that name exists: the unfinished upload's blocks stay until Azure removes them after a week",
			"storage", s.String(), "blob", b)
	}
}

func md5sum(b []byte) []byte {
	sum := md5.Sum(b)
	return sum[:]
}

// bufs keeps buffers of the first block's size for the next Puts: most
// objects fit in one.
var bufs = sync.Pool{New: func() any { b := make([]byte, firstBlock); return &b }}

func getBuf(size int64) []byte {
	if size == firstBlock {
		return *bufs.Get().(*[]byte)
	}
	return make([]byte, size)
}

func putBuf(b []byte) {
	if b = b[:cap(b)]; len(b) == firstBlock {
		bufs.Put(&b)
	}
}

// source is the stream to store (storage.Source), read block by block.
type source struct{ *storage.Source }

// fill reads into buf until it is full or the stream ends.
func (s *source) fill(buf []byte) (n int, full bool, err error) {
	n, err = io.ReadFull(s, buf)
	switch {
	case err == nil:
		return n, true, nil
	case s.Err != nil:
		return n, false, s.Err
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return n, false, nil
	}
	return n, false, err
}
