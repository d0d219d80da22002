package restore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// maxGlobalsStored bounds what ReadGlobals reads of a globals object.
const maxGlobalsStored = 128 << 20

// ReadGlobals reads and decrypts the globals object stored beside the
// backup of m (backup.GlobalsOf(m.Object)) and returns its SQL, after
// checking every chunk authenticates and the size and SHA-256 match the
// manifest. A backup without globals returns nil, nil. A missing, altered
// or foreign object is a *Problem.
func ReadGlobals(ctx context.Context, src Source, m *backup.Manifest, kr keys.Keyring) ([]byte, error) {
	if m.Globals == nil {
		return nil, nil
	}
	name := backup.GlobalsOf(m.Object)
	body, err := src.Open(ctx, name)
	if err != nil {
		return nil, &Problem{Code: ProblemMissing, Detail: fmt.Sprintf("the roles object %s cannot be read: %v", name, err), Err: err}
	}
	defer body.Close()
	enc, err := io.ReadAll(io.LimitReader(body, maxGlobalsStored+1))
	if err != nil {
		return nil, &Problem{Code: ProblemMissing, Detail: fmt.Sprintf("the roles object %s cannot be read: %v", name, err), Err: err}
	}
	if int64(len(enc)) != m.Globals.StoredSize {
		return nil, &Problem{Code: ProblemSize, Detail: fmt.Sprintf("the roles object %s has %d bytes, the manifest says %d", name, len(enc), m.Globals.StoredSize)}
	}
	if sum := sha256.Sum256(enc); hex.EncodeToString(sum[:]) != m.Globals.SHA256 {
		return nil, &Problem{Code: ProblemHash, Detail: fmt.Sprintf("the roles object %s's SHA-256 is %x, the manifest says %s", name, sum, m.Globals.SHA256)}
	}
	r, h, err := format.NewReader(bytes.NewReader(enc), kr)
	if err != nil {
		return nil, globalsProblem(name, classify(err))
	}
	if h.BackupID.String() != m.BackupID {
		return nil, &Problem{Code: ProblemWrongFile, Detail: fmt.Sprintf("%s holds the roles of backup %s, not %s", name, h.BackupID, m.BackupID)}
	}
	sql, err := io.ReadAll(r)
	if err != nil {
		return nil, globalsProblem(name, classify(err))
	}
	return sql, nil
}

// globalsProblem names the roles object in a Problem about it.
func globalsProblem(name string, err error) error {
	var p *Problem
	if errors.As(err, &p) {
		return &Problem{Code: p.Code, Detail: "the roles object " + name + ": " + p.Detail, Offset: p.Offset, Err: p.Err}
	}
	return err
}
