package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Inspect reads a lone backup file, one that came without its manifest (a
// file copied from another machine, say), and writes the manifest it can
// learn from the file itself: IDs, key, sizes and SHA-256 (every chunk is
// authenticated on the way), and from the archive's table of contents the
// database name, server and pg_dump versions and the tables. Row counts are
// not in the file, so none is recorded (RowsCounted false: a drill then
// checks that the restore succeeds, not the counts). object is the name the
// file is opened by later. A file that is not a sound backup is a *Problem.
func Inspect(ctx context.Context, file io.Reader, object string, kr keys.Keyring, pgRestore string) (*backup.Manifest, error) {
	hash := sha256.New()
	var n int64
	counted := io.TeeReader(file, writerFunc(func(p []byte) (int, error) {
		n += int64(len(p))
		return hash.Write(p)
	}))
	plain, h, err := format.NewReader(counted, kr)
	if err != nil {
		return nil, classify(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var toc *pgtools.TOC
	go func() {
		var err error
		toc, err = pgtools.List(ctx, pgRestore, pr)
		pr.CloseWithError(errConsumerDone)
		done <- err
	}()
	_, readErr := io.Copy(&lenient{pw}, readerFunc(plain.Read))
	pw.CloseWithError(readErr)
	listErr := <-done
	if readErr != nil {
		return nil, classify(readErr)
	}
	var te *pgtools.ToolError
	if errors.As(listErr, &te) && te.Code != pgtools.CodeCancelled && ctx.Err() == nil {
		return nil, &Problem{Code: ProblemTOC, Detail: "pg_restore cannot read the archive: " + te.Detail, Err: listErr}
	}
	if listErr != nil {
		return nil, listErr
	}
	chunk := h.ChunkSize
	if chunk == 0 {
		chunk = format.DefaultChunkSize
	}
	m := &backup.Manifest{Kind: backup.ManifestKind, Version: backup.ManifestVersion, BackupID: h.BackupID.String(),
		DatabaseName: toc.Database, ServerVersion: toc.DumpedFrom.String(), ServerMajor: toc.DumpedFrom.Major,
		PgDumpVersion: toc.DumpedBy.String(), StoredSize: n, SHA256: hex.EncodeToString(hash.Sum(nil)),
		FormatVersion: format.Version, KeyID: h.KeyID.String(), ChunkSize: chunk, Object: object}
	for _, t := range toc.Tables() {
		schema, name, _ := strings.Cut(t, ".")
		m.Tables = append(m.Tables, backup.TableCount{Schema: schema, Name: name})
	}
	return m, nil
}
