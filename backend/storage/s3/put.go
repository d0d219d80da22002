package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// S3's multipart limits, and how parts grow.
const (
	maxParts     = 10000
	minPartSize  = 5 << 20 // all parts but the last
	maxPartSize  = 5 << 30
	firstPart    = 8 << 20
	partsPerStep = 1000 // parts of one size before it doubles
)

// abortTimeout bounds aborting a failed upload, which runs on a fresh
// context as the Put's may be cancelled.
const abortTimeout = 15 * time.Second

// partSize is the size of part n (1 to maxParts): firstPart for the first
// partsPerStep parts, doubling every partsPerStep parts, at most maxPartSize.
func partSize(n int) int64 {
	return min(int64(firstPart)<<((n-1)/partsPerStep), maxPartSize)
}

func (s *S3) Put(ctx context.Context, name string, r io.Reader) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	src := &source{storage.NewSource(ctx, r)}
	buf := getBuf(partSize(1))
	n, full, err := src.fill(buf)
	if err == nil && !full {
		_, err = s.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: &s.cfg.Bucket, Key: &key, Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			ContentMD5: contentMD5(buf[:n]), StorageClass: types.StorageClass(s.cfg.StorageClass),
			ServerSideEncryption: types.ServerSideEncryption(s.cfg.SSE),
			ObjectLockMode:       s.cfg.lockMode(), ObjectLockRetainUntilDate: s.cfg.lockUntil(time.Now())})
		if err == nil {
			putBuf(buf)
		}
	} else if err == nil {
		err = s.multipart(ctx, key, src, buf)
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

// multipart uploads the stream whose first part is in first, completing the
// upload if all went well and aborting it otherwise.
func (s *S3) multipart(ctx context.Context, key string, src *source, first []byte) error {
	up, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: &key, StorageClass: types.StorageClass(s.cfg.StorageClass),
		ServerSideEncryption: types.ServerSideEncryption(s.cfg.SSE),
		ObjectLockMode:       s.cfg.lockMode(), ObjectLockRetainUntilDate: s.cfg.lockUntil(time.Now())})
	if err != nil {
		return err
	}
	parts, err := s.sendParts(ctx, key, up.UploadId, src, first)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		_, err = s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket: &s.cfg.Bucket, Key: &key, UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	}
	if err != nil {
		s.abort(key, up.UploadId)
	}
	return err
}

// sendParts uploads part after part, reading the next one while the
// previous one uploads; two buffers take turns. It returns when the stream
// ended and every part was stored, or at the first error (after the part in
// flight, if any, returned). It owns first.
func (s *S3) sendParts(ctx context.Context, key string, id *string, src *source, first []byte) ([]types.CompletedPart, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src.SetContext(ctx) // an upload error stops the reading too

	type part struct {
		n int32
		b []byte
	}
	todo := make(chan part)      // unbuffered: at most one part read ahead
	free := make(chan []byte, 2) // buffers back from the uploader
	var parts []types.CompletedPart
	var upErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range todo {
			if upErr == nil {
				var out *awss3.UploadPartOutput
				out, upErr = s.client.UploadPart(ctx, &awss3.UploadPartInput{
					Bucket: &s.cfg.Bucket, Key: &key, UploadId: id, PartNumber: aws.Int32(p.n),
					Body: bytes.NewReader(p.b), ContentLength: aws.Int64(int64(len(p.b))), ContentMD5: contentMD5(p.b)})
				if upErr != nil {
					cancel()
				} else {
					parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(p.n)})
				}
			}
			free <- p.b
		}
	}()

	readErr := func() error {
		buf, last := first, false
		for n := 1; ; n++ {
			todo <- part{int32(n), buf}
			if last {
				return nil
			}
			if n == maxParts {
				_, more, err := src.fill(make([]byte, 1))
				if err == nil && more {
					err = fmt.Errorf("the data is larger than an S3 object can be (%d parts of up to %d MiB)", maxParts, partSize(maxParts)>>20)
				}
				return err
			}
			select {
			case buf = <-free:
			default: // the first part is still uploading: a second buffer
				buf = nil
			}
			size := partSize(n + 1)
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
			buf, last = buf[:k], !full
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
	return parts, readErr
}

// bufs keeps buffers of the first part's size for the next Puts: most
// objects fit in one.
var bufs = sync.Pool{New: func() any { b := make([]byte, firstPart); return &b }}

func getBuf(size int64) []byte {
	if size == firstPart {
		return *bufs.Get().(*[]byte)
	}
	return make([]byte, size)
}

func putBuf(b []byte) {
	if b = b[:cap(b)]; len(b) == firstPart {
		bufs.Put(&b)
	}
}

// abort drops an unfinished upload and the parts it stored, on a fresh
// context.
func (s *S3) abort(key string, id *string) {
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key, UploadId: id})
	if err != nil {
		slog.Warn("could not abort an unfinished S3 upload: its parts stay in the bucket until a lifecycle rule removes them",
			"storage", s.String(), "key", key, "err", err)
	}
}

func contentMD5(b []byte) *string {
	sum := md5.Sum(b)
	return aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}

// source is the stream to store (storage.Source), read part by part.
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
