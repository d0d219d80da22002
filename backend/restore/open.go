package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// archive is a stored backup being read: the decrypted pg_dump archive, with
// the encrypted bytes hashed and counted on the way.
type archive struct {
	io.Reader // the plain archive
	body      io.ReadCloser
	hash      hash.Hash
	n         *int64
	m         *backup.Manifest
}

// openArchive opens a stored backup and checks its header belongs to m.
func openArchive(ctx context.Context, src Source, m *backup.Manifest, kr keys.Keyring) (*archive, error) {
	body, err := src.Open(ctx, m.Object)
	if err != nil {
		return nil, &Problem{Code: ProblemMissing, Detail: fmt.Sprintf("the backup file %s cannot be read: %v", m.Object, err), Err: err}
	}
	a := &archive{body: body, hash: sha256.New(), n: new(int64), m: m}
	counted := io.TeeReader(body, writerFunc(func(p []byte) (int, error) {
		*a.n += int64(len(p))
		return a.hash.Write(p)
	}))
	r, h, err := format.NewReader(counted, kr)
	if err != nil {
		body.Close()
		return nil, classify(err)
	}
	if h.BackupID.String() != m.BackupID {
		body.Close()
		return nil, &Problem{Code: ProblemWrongFile, Detail: fmt.Sprintf("%s holds backup %s, not %s: the file was replaced or renamed", m.Object, h.BackupID, m.BackupID)}
	}
	a.Reader = readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		if err != nil && !errors.Is(err, io.EOF) {
			err = classify(err)
		}
		return n, err
	})
	return a, nil
}

// check compares what was read with the manifest; call it after io.EOF.
func (a *archive) check() error {
	if *a.n != a.m.StoredSize {
		return &Problem{Code: ProblemSize, Detail: fmt.Sprintf("the stored file has %d bytes, the manifest says %d", *a.n, a.m.StoredSize)}
	}
	if sum := hex.EncodeToString(a.hash.Sum(nil)); sum != a.m.SHA256 {
		return &Problem{Code: ProblemHash, Detail: fmt.Sprintf("the stored file's SHA-256 is %s, the manifest says %s", sum, a.m.SHA256)}
	}
	return nil
}

func (a *archive) Close() error { return a.body.Close() }

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// ProblemCode says what is wrong with a backup.
type ProblemCode string

const (
	ProblemMissing    ProblemCode = "missing"    // the file is not in the storage or cannot be read
	ProblemWrongFile  ProblemCode = "wrong_file" // another backup's file under this name
	ProblemWrongKey   ProblemCode = "wrong_key"  // encrypted under a key this machine does not have
	ProblemTampered   ProblemCode = "tampered"   // a header or chunk failed authentication
	ProblemTruncated  ProblemCode = "truncated"  // the file is cut short
	ProblemSize       ProblemCode = "size"       // size differs from the manifest
	ProblemHash       ProblemCode = "hash"       // SHA-256 differs from the manifest
	ProblemTOC        ProblemCode = "toc"        // pg_restore cannot read the archive
	ProblemTables     ProblemCode = "tables"     // tables in the manifest missing from the archive
	ProblemRowCounts  ProblemCode = "row_counts" // a drill restored other row counts
	ProblemNotABackup ProblemCode = "not_pgsafe" // not a PgSafe file at all
)

// Problem is the first thing found wrong with a backup.
type Problem struct {
	Code   ProblemCode `json:"code"`
	Detail string      `json:"detail"`
	Offset int64       `json:"offset,omitempty"` // in the stored file, where known
	Err    error       `json:"-"`
}

func (p *Problem) Error() string { return p.Detail }
func (p *Problem) Unwrap() error { return p.Err }

// classify turns a format error into a Problem.
func classify(err error) error {
	var ce *format.ChunkError
	var wk *keys.WrongKeyError
	var p *Problem
	switch {
	case errors.As(err, &p):
		return err
	case errors.As(err, &ce):
		code := ProblemTampered
		switch ce.Kind {
		case format.ChunkTruncatedAfter, format.ChunkTruncatedInside, format.ChunkCutOrDamaged:
			code = ProblemTruncated // (a cut-or-damaged end cannot be told apart: the message says both)
		}
		return &Problem{Code: code, Detail: ce.Error(), Offset: ce.Offset, Err: err}
	case errors.As(err, &wk):
		return &Problem{Code: ProblemWrongKey, Detail: err.Error(), Err: err}
	case errors.Is(err, format.ErrHeaderTampered), errors.Is(err, format.ErrBadHeader):
		return &Problem{Code: ProblemTampered, Detail: err.Error(), Err: err}
	case errors.Is(err, format.ErrNotPgSafe), errors.Is(err, format.ErrUnsupportedVersion):
		return &Problem{Code: ProblemNotABackup, Detail: err.Error(), Err: err}
	case errors.Is(err, format.ErrTruncated):
		return &Problem{Code: ProblemTruncated, Detail: err.Error(), Err: err}
	}
	return err
}
