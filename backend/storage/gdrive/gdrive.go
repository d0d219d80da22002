// Package gdrive keeps backups in a folder of the user's Google Drive,
// through the Drive v3 REST API over plain HTTP (the requests an
// oauth-signed *http.Client makes; no SDK). Objects are files directly in
// the folder, named by their whole object name ("crm/2026-…pgsafe"): Drive
// allows "/" in a name and PgSafe only lists by prefix.
//
// Put is all-or-nothing: it creates an empty placeholder named
// ".pgsafe-tmp-<object>~<random>", uploads the content into it with a
// resumable upload (fixed chunks, flat memory), and only then renames it
// to the object's name and deletes the older file of that name. A Put that
// fails deletes its placeholder; one whose process was killed leaves it,
// listed by RemoveTemp. See docs/STORAGE.md.
//
// Rate limits (429, or 403 rateLimitExceeded/userRateLimitExceeded) and
// Google's server errors are retried with exponential backoff, a bounded
// number of times (webapi.Do; the upload's chunks by asking the session
// what it kept and resuming from there, see put.go), as Google asks
// (developers.google.com/drive/api/guides/limits).
//
// No Google service can be reached from the tests: they run against
// backend/internal/testenv/fakegoogle, a local fake of exactly the
// documented endpoints this package calls.
package gdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
)

// FolderMime is Drive's type of a folder.
const FolderMime = "application/vnd.google-apps.folder"

// DefaultChunk is the resumable upload's chunk size (Drive wants multiples
// of 256 KiB): one buffer of it is all the memory a Put holds.
const DefaultChunk = 8 << 20

// Config says where the storage is.
type Config struct {
	// APIURL and UploadURL are Drive's endpoints (oauth.Provider's).
	APIURL    string
	UploadURL string
	// Folder is the folder's path from the top of My Drive, "PgSafe/crm";
	// missing folders are created.
	Folder string
	// HTTP signs requests with the user's grant (oauth.Client).
	HTTP *http.Client
	// Chunk is the upload chunk size; 0 is DefaultChunk.
	Chunk int
	// Retry bounds the retries of rate limits and server errors; zero is
	// webapi.DefaultRetry (tests make its waits tiny).
	Retry webapi.Retry
}

// Storage is a Drive folder.
type Storage struct {
	c        Config
	folderID string
}

// New finds the folder (creating what is missing) and returns the storage.
func New(ctx context.Context, c Config) (*Storage, error) {
	if c.Chunk <= 0 {
		c.Chunk = DefaultChunk
	}
	if c.Retry.Attempts <= 0 {
		c.Retry = webapi.DefaultRetry
	}
	c.Retry.RateLimited = rateLimited
	if c.Chunk%(256<<10) != 0 {
		return nil, fmt.Errorf("gdrive: chunk size %d is not a multiple of 256 KiB", c.Chunk)
	}
	c.Folder = strings.Trim(c.Folder, "/")
	if c.Folder == "" {
		c.Folder = "PgSafe"
	}
	s := &Storage{c: c}
	parent := "root"
	for _, name := range strings.Split(c.Folder, "/") {
		fs, err := s.list(ctx, fmt.Sprintf("name = %s and %s in parents and mimeType = '%s' and trashed = false", quote(name), quote(parent), FolderMime))
		if err != nil {
			return nil, s.wrap("find the folder", err)
		}
		if len(fs) > 0 {
			parent = fs[0].ID
			continue
		}
		var f file
		if err := s.call(ctx, http.MethodPost, s.c.APIURL+"/files?fields="+fileFields, map[string]any{"name": name, "mimeType": FolderMime, "parents": []string{parent}}, &f); err != nil {
			return nil, s.wrap("create the folder", err)
		}
		parent = f.ID
	}
	s.folderID = parent
	return s, nil
}

func (s *Storage) String() string { return "Google Drive folder " + s.c.Folder }

// Account is the signed-in user's email address, for the storage's label.
func (s *Storage) Account(ctx context.Context) (string, error) {
	var a struct {
		User struct {
			EmailAddress string `json:"emailAddress"`
			DisplayName  string `json:"displayName"`
		} `json:"user"`
	}
	if err := s.call(ctx, http.MethodGet, s.c.APIURL+"/about?fields=user(emailAddress,displayName)", nil, &a); err != nil {
		return "", s.wrap("read the account", err)
	}
	if a.User.EmailAddress != "" {
		return a.User.EmailAddress, nil
	}
	return a.User.DisplayName, nil
}

// file is a Drive file's metadata as requested with fileFields.
type file struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	MimeType     string    `json:"mimeType"`
	Size         int64     `json:"size,string"`
	ModifiedTime time.Time `json:"modifiedTime"`
}

const fileFields = "id,name,mimeType,size,modifiedTime"

// list returns every file matching q (a Drive query), all pages.
func (s *Storage) list(ctx context.Context, q string) ([]file, error) {
	var out []file
	page := ""
	for {
		v := url.Values{"q": {q}, "fields": {"nextPageToken,files(" + fileFields + ")"}, "pageSize": {"1000"}, "spaces": {"drive"}}
		if page != "" {
			v.Set("pageToken", page)
		}
		var r struct {
			NextPageToken string `json:"nextPageToken"`
			Files         []file `json:"files"`
		}
		if err := s.call(ctx, http.MethodGet, s.c.APIURL+"/files?"+v.Encode(), nil, &r); err != nil {
			return nil, err
		}
		out = append(out, r.Files...)
		if page = r.NextPageToken; page == "" {
			return out, nil
		}
	}
}

// inFolder lists the folder's files (not folders), or those named name.
func (s *Storage) inFolder(ctx context.Context, name string) ([]file, error) {
	q := fmt.Sprintf("%s in parents and trashed = false and mimeType != '%s'", quote(s.folderID), FolderMime)
	if name != "" {
		q = "name = " + quote(name) + " and " + q
	}
	fs, err := s.list(ctx, q)
	if err != nil {
		return nil, err
	}
	// Newest first: if a Put's rename happened and its deleting the older
	// file did not, the newer file is the object.
	slices.SortStableFunc(fs, func(a, b file) int { return b.ModifiedTime.Compare(a.ModifiedTime) })
	return fs, nil
}

// find returns the file holding object name.
func (s *Storage) find(ctx context.Context, name string) (file, error) {
	fs, err := s.inFolder(ctx, name)
	if err != nil {
		return file{}, s.wrap("look up "+name, err)
	}
	if len(fs) == 0 {
		return file{}, storage.ErrNotFound
	}
	return fs[0], nil
}

// Open reads an object.
func (s *Storage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	f, err := s.find(ctx, name)
	if err != nil {
		return nil, err
	}
	resp, err := webapi.Do(ctx, s.c.HTTP, s.c.Retry, true, func() (*http.Request, error) {
		return http.NewRequest(http.MethodGet, s.c.APIURL+"/files/"+url.PathEscape(f.ID)+"?alt=media", nil)
	})
	if err != nil {
		return nil, s.wrap("read "+name, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, storage.ErrNotFound
		}
		return nil, s.wrap("read "+name, apiError(resp))
	}
	return resp.Body, nil
}

// Stat describes an object.
func (s *Storage) Stat(ctx context.Context, name string) (storage.Info, error) {
	f, err := s.find(ctx, name)
	if err != nil {
		return storage.Info{}, err
	}
	return storage.Info{Name: f.Name, Size: f.Size, Modified: f.ModifiedTime}, nil
}

// List returns the objects whose names start with prefix, in name order.
func (s *Storage) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	fs, err := s.inFolder(ctx, "")
	if err != nil {
		return nil, s.wrap("list", err)
	}
	seen := map[string]bool{}
	var out []storage.Info
	for _, f := range fs {
		if !strings.HasPrefix(f.Name, prefix) || strings.HasPrefix(f.Name, tempPrefix) || seen[f.Name] {
			continue
		}
		seen[f.Name] = true
		out = append(out, storage.Info{Name: f.Name, Size: f.Size, Modified: f.ModifiedTime})
	}
	slices.SortFunc(out, func(a, b storage.Info) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Delete removes an object (every file of that name).
func (s *Storage) Delete(ctx context.Context, name string) error {
	fs, err := s.inFolder(ctx, name)
	if err != nil {
		return s.wrap("delete "+name, err)
	}
	if len(fs) == 0 {
		return storage.ErrNotFound
	}
	for _, f := range fs {
		if err := s.deleteFile(ctx, f.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return s.wrap("delete "+name, err)
		}
	}
	return nil
}

func (s *Storage) deleteFile(ctx context.Context, id string) error {
	return s.call(ctx, http.MethodDelete, s.c.APIURL+"/files/"+url.PathEscape(id), nil, nil)
}

// quote makes s a Drive query string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
