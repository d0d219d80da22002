package audit

import (
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

	"github.com/pgsafe/pgsafe/backend/keys"
)

// Checkpoint is the newest entry's sequence number and MAC.
type Checkpoint struct {
	Seq int64
	MAC []byte
}

// CheckpointStore keeps the checkpoint outside the database.
type CheckpointStore interface {
	Load() (Checkpoint, bool, error) // false: none saved yet
	Save(Checkpoint) error
}

// LabelCheckpoint derives the key that authenticates the checkpoint file.
const LabelCheckpoint = "pgsafe/v1/audit-checkpoint"

// FileCheckpoint keeps the checkpoint in a small JSON file beside the
// settings database, authenticated with its own HMAC key (so it cannot be
// forged or taken from another installation), written atomically.
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

type checkpointJSON struct {
	Version int    `json:"version"`
	Seq     int64  `json:"seq"`
	MAC     string `json:"mac"`  // the entry's MAC, hex
	Auth    string `json:"auth"` // HMAC of the above under the checkpoint key, hex
}

func (f *FileCheckpoint) auth(seq int64, mac []byte) []byte {
	h := hmac.New(sha256.New, f.key)
	h.Write([]byte("pgsafe/v1/audit-checkpoint\x00" + strconv.FormatInt(seq, 10) + "\x00"))
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
	if err := json.Unmarshal(data, &c); err != nil || c.Version != 1 {
		return Checkpoint{}, true, fmt.Errorf("%w: %s is damaged", ErrCheckpointInvalid, f.path)
	}
	mac, err1 := hex.DecodeString(c.MAC)
	auth, err2 := hex.DecodeString(c.Auth)
	if err1 != nil || err2 != nil || !hmac.Equal(auth, f.auth(c.Seq, mac)) {
		return Checkpoint{}, true, fmt.Errorf("%w: %s was modified or comes from another key", ErrCheckpointInvalid, f.path)
	}
	return Checkpoint{Seq: c.Seq, MAC: mac}, true, nil
}

// Save writes the checkpoint atomically (temporary file, fsync, rename).
func (f *FileCheckpoint) Save(c Checkpoint) error {
	data, err := json.Marshal(checkpointJSON{Version: 1, Seq: c.Seq, MAC: hex.EncodeToString(c.MAC), Auth: hex.EncodeToString(f.auth(c.Seq, c.MAC))})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write the audit checkpoint: %w", err)
	}
	return nil
}
