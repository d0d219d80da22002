package keys

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySourceFile is the file in the settings directory that records where this
// machine keeps its master key when it is not in the keychain. It holds no secret:
//
//	{"version": 1, "source": "protected-key-file", "path": "/abs/path/to/file"}
//
// Without it, the key is in the keychain.
const KeySourceFile = "keysource.json"

type keySourceConfig struct {
	Version int        `json:"version"`
	Source  SourceKind `json:"source"`
	Path    string     `json:"path"`
}

// readKeySource returns the configured protected key file, or "" if none is
// configured (the keychain is used).
func readKeySource(home string) (string, error) {
	p := filepath.Join(home, KeySourceFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read key source: %w", err)
	}
	var c keySourceConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("key source %s is damaged: %w", p, err)
	}
	if c.Version != 1 || c.Source != SourceProtectedKeyFile || !filepath.IsAbs(c.Path) {
		return "", fmt.Errorf("key source %s: unsupported content (version %d, source %q); remove it to use the keychain", p, c.Version, c.Source)
	}
	return c.Path, nil
}

// writeKeySource records path as this machine's protected key file.
func writeKeySource(home, path string) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create settings directory %s: %w", home, err)
	}
	data, err := json.MarshalIndent(keySourceConfig{Version: 1, Source: SourceProtectedKeyFile, Path: path}, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(filepath.Join(home, KeySourceFile), append(data, '\n'))
}
