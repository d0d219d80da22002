package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pgsafe/pgsafe/backend/internal/filelock"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// Checkpoint is the newest entry's sequence number and MAC, and the ID of the
// settings database whose log it belongs to (store.StoreID; "" in a
// checkpoint written before logs had a genesis entry).
type Checkpoint struct {
	Seq     int64
	MAC     []byte
	StoreID string
}

// CheckpointStore keeps the checkpoint outside the database. Lock serializes
// appends across processes: between Lock and unlock, no other process (and
// no other CheckpointStore on the same file) appends.
type CheckpointStore interface {
	Load() (Checkpoint, bool, error) // false: none saved yet
	// Prepare writes a checkpoint durably beside the current one; commit
	// puts it in place, discard drops it. An append prepares before its
	// transaction commits, so that only commit is left to do after it.
	Prepare(Checkpoint) (commit func() error, discard func(), err error)
	Lock(ctx context.Context) (unlock func(), err error)
}

// LabelCheckpoint derives the key that authenticates the checkpoint file.
const LabelCheckpoint = "pgsafe/v1/audit-checkpoint"

// FileCheckpoint keeps the checkpoint in a small JSON file beside the
// settings database, authenticated with its own HMAC key (so it cannot be
// forged or taken from another installation), written atomically. Its lock
// is an exclusive lock on a file beside it (path + ".lock").
type FileCheckpoint struct {
	path string
	key  []byte
}

// NewFileCheckpoint returns the checkpoint file at path.
func NewFileCheckpoint(path string, mk *keys.MasterKey) (*FileCheckpoint, error) {
	key, err := mk.Derive(LabelCheckpoint, nil, nil, 32)
	if err != nil {
		return nil, err
	}
	return &FileCheckpoint{path: path, key: key}, nil
}

// CheckpointFile is the checkpoint's file name in the settings directory.
const CheckpointFile = "audit.checkpoint"

// Checkpoint file versions: 1 has no store ID (written before genesis
// entries), 2 has one.
const (
	checkpointV1 = 1
	checkpointV2 = 2
)

type checkpointJSON struct {
	Version int    `json:"version"`
	Store   string `json:"store,omitempty"` // the store ID (version 2)
	Seq     int64  `json:"seq"`
	MAC     string `json:"mac"`  // the entry's MAC, hex
	Auth    string `json:"auth"` // HMAC of the above under the checkpoint key, hex
}

func (f *FileCheckpoint) auth(version int, storeID string, seq int64, mac []byte) []byte {
	h := hmac.New(sha256.New, f.key)
	if version == checkpointV1 {
		h.Write([]byte("pgsafe/v1/audit-checkpoint\x00" + strconv.FormatInt(seq, 10) + "\x00"))
	} else {
		h.Write([]byte("pgsafe/v1/audit-checkpoint\x00v2\x00" + strconv.Itoa(len(storeID)) + "\x00" + storeID + "\x00" +
			strconv.FormatInt(seq, 10) + "\x00"))
	}
	h.Write(mac)
	return h.Sum(nil)
}

// ErrCheckpointInvalid: the checkpoint file was edited, forged, or belongs to
// another key.
var ErrCheckpointInvalid = errors.New("the audit checkpoint file does not authenticate")

// Load reads the checkpoint.
func (f *FileCheckpoint) Load() (Checkpoint, bool, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, err
	}
	var c checkpointJSON
	if err := json.Unmarshal(data, &c); err != nil || (c.Version != checkpointV1 && c.Version != checkpointV2) ||
		(c.Version == checkpointV1) != (c.Store == "") {
		return Checkpoint{}, true, fmt.Errorf("%w: %s is damaged", ErrCheckpointInvalid, f.path)
	}
	mac, err1 := hex.DecodeString(c.MAC)
	auth, err2 := hex.DecodeString(c.Auth)
	if err1 != nil || err2 != nil || !hmac.Equal(auth, f.auth(c.Version, c.Store, c.Seq, mac)) {
		return Checkpoint{}, true, fmt.Errorf("%w: %s was modified or comes from another key", ErrCheckpointInvalid, f.path)
	}
	return Checkpoint{Seq: c.Seq, MAC: mac, StoreID: c.Store}, true, nil
}

// Save writes the checkpoint atomically (Prepare, then commit). A checkpoint
// with a store ID is written as version 2, one without (only tests write
// those, to stand for an older PgSafe) as version 1.
func (f *FileCheckpoint) Save(c Checkpoint) error {
	commit, _, err := f.Prepare(c)
	if err != nil {
		return err
	}
	return commit()
}

// Prepare writes the checkpoint to a temporary file beside it and syncs it;
// commit renames it over the checkpoint and syncs the directory.
func (f *FileCheckpoint) Prepare(c Checkpoint) (commit func() error, discard func(), err error) {
	v := checkpointV2
	if c.StoreID == "" {
		v = checkpointV1
	}
	data, err := json.Marshal(checkpointJSON{Version: v, Store: c.StoreID, Seq: c.Seq, MAC: hex.EncodeToString(c.MAC),
		Auth: hex.EncodeToString(f.auth(v, c.StoreID, c.Seq, c.MAC))})
	if err != nil {
		return nil, nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".tmp-*")
	if err != nil {
		return nil, nil, fmt.Errorf("write the audit checkpoint: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	discard = func() { os.Remove(tmp.Name()) }
	if err != nil {
		discard()
		return nil, nil, fmt.Errorf("write the audit checkpoint: %w", err)
	}
	commit = func() error {
		if err := os.Rename(tmp.Name(), f.path); err != nil {
			discard()
			return fmt.Errorf("write the audit checkpoint: %w", err)
		}
		// Make the rename durable: after a power loss an older checkpoint
		// would be reported as rolled back. Best effort (not possible on
		// Windows).
		if d, err := os.Open(filepath.Dir(f.path)); err == nil {
			d.Sync()
			d.Close()
		}
		return nil
	}
	return commit, discard, nil
}

// Lock takes the exclusive lock on path + ".lock", waiting for another
// process's append to end. The lock file holds nothing; it is never removed
// (removing it would let two processes lock two different files).
func (f *FileCheckpoint) Lock(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(f.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the audit checkpoint: %w", err)
	}
	if err := filelock.Lock(lf); err != nil {
		lf.Close()
		return nil, fmt.Errorf("lock the audit checkpoint %s.lock: %w", f.path, err)
	}
	return func() { lf.Close() }, nil // closing releases the lock
}
