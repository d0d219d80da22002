// Package dropbox is a storage in a folder of a Dropbox account, through the
// Dropbox API v2 over plain HTTP: object NAME is the file FOLDER/NAME.
//
// The HTTP client given in Config carries the sign-in (an OAuth 2.0 token
// source adds the access token and refreshes it); this package never sees a
// refresh token. The endpoints it calls, all documented at
// https://www.dropbox.com/developers/documentation/http/documentation:
// files/upload, files/upload_session/start, append_v2 and finish (content
// host), files/download, files/list_folder and list_folder/continue,
// files/get_metadata, files/delete_v2 and users/get_space_usage. The tests
// run against a fake of exactly these (testenv.Dropbox): no real Dropbox
// can be reached from the test machines.
//
// Put is all-or-nothing because Dropbox is: a file appears only when
// files/upload or upload_session/finish commits it (mode overwrite replaces
// an older file in one step). A stream of one chunk or less goes up with one
// files/upload; a longer one in an upload session, chunk by chunk (8 MiB, a
// multiple of the 4 MiB Dropbox asks for), with one chunk in memory. An
// abandoned session — a Put that failed, was cancelled or whose process was
// killed — is invisible (it is no file, in no listing, and uses no space of
// the account) and Dropbox drops it after 7 days, so there is nothing to
// sweep: the storage is storage.Expiring, not a TempSweeper.
//
// Rate limits (429, with Retry-After) are waited out and retried a bounded
// number of times (webapi.DefaultRetry), as are server and network errors of
// the calls that can be repeated; an append repeated after a lost answer is
// recognised by Dropbox's incorrect_offset reply.
package dropbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
)

// The Dropbox API's hosts.
const (
	APIURL     = "https://api.dropboxapi.com"
	ContentURL = "https://content.dropboxapi.com"
)

// ChunkSize is the size of an upload session's chunks: a multiple of 4 MiB.
const ChunkSize = 8 << 20

// sessionExpiry is how long Dropbox keeps an upload session (documented:
// "Upload sessions are valid for 7 days").
const sessionExpiry = 7 * 24 * time.Hour

// Config is a folder of a Dropbox account, and the client to reach it.
type Config struct {
	// Folder holds the objects: "/PgSafe", "/Backups/db" ("" or "/" for the
	// root of the account, or of the app's folder for an app-folder app).
	Folder string
	// Client sends the requests, adding the account's access token (an
	// oauth2 client). Required.
	Client *http.Client
	// APIURL and ContentURL replace the Dropbox hosts (tests: a fake); a
	// trailing "/2" (the API version) is allowed.
	APIURL, ContentURL string
}

// Dropbox is a folder of a Dropbox account.
type Dropbox struct {
	folder       string // "" or "/a/b"
	api, content string
	client       *http.Client
	retry        webapi.Retry
}

// cleanFolder is folder as Dropbox wants it: "" (the root) or "/a/b".
func cleanFolder(folder string) string {
	f := path.Clean("/" + strings.TrimSpace(strings.ReplaceAll(folder, "\\", "/")))
	if f == "/" {
		return ""
	}
	return f
}

// New returns the storage cfg describes, after checking that the account
// answers and the folder is not a file. A missing folder is fine: Dropbox
// creates it with the first file.
func New(ctx context.Context, cfg Config) (*Dropbox, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("sign in to Dropbox first")
	}
	host := func(u string) string { return strings.TrimSuffix(strings.TrimRight(u, "/"), "/2") }
	d := &Dropbox{folder: cleanFolder(cfg.Folder), api: host(cfg.APIURL),
		content: host(cfg.ContentURL), client: cfg.Client, retry: webapi.DefaultRetry}
	if d.api == "" {
		d.api = APIURL
	}
	if d.content == "" {
		d.content = ContentURL
	}
	var out listResult
	err := d.rpc(ctx, "files/list_folder", map[string]any{"path": d.folder, "limit": 1}, &out)
	if err != nil && !isNotFound(err) {
		return nil, d.explain(err, "open")
	}
	return d, nil
}

func (d *Dropbox) folderName() string {
	if d.folder == "" {
		return "the top folder"
	}
	return "the folder " + d.folder
}

// String names the storage: "Dropbox folder /PgSafe".
func (d *Dropbox) String() string {
	if d.folder == "" {
		return "Dropbox (top folder)"
	}
	return "Dropbox folder " + d.folder
}

// LogValue keeps slog to the storage's name.
func (d *Dropbox) LogValue() slog.Value { return slog.StringValue(d.String()) }

// UploadExpiry: an unfinished upload session is dropped by Dropbox after 7
// days (storage.Expiring).
func (d *Dropbox) UploadExpiry() time.Duration { return sessionExpiry }

// path maps an object name to its Dropbox path, refusing names that are not
// clean relative paths.
func (d *Dropbox) path(name string) (string, error) {
	if name == "" || path.Clean("/"+name) != "/"+name || strings.Contains(name, "\\") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return d.folder + "/" + name, nil
}

// metadata is a file's (or folder's) metadata as Dropbox returns it.
type metadata struct {
	Tag            string    `json:".tag"`
	Name           string    `json:"name"`
	PathDisplay    string    `json:"path_display"`
	PathLower      string    `json:"path_lower"`
	Size           int64     `json:"size"`
	ServerModified time.Time `json:"server_modified"`
}

type listResult struct {
	Entries []metadata `json:"entries"`
	Cursor  string     `json:"cursor"`
	HasMore bool       `json:"has_more"`
}

func isNotFound(err error) bool {
	e, ok := err.(*apiError)
	return ok && e.Status == http.StatusConflict && (e.is("path/not_found") || e.is("path_lookup/not_found"))
}

func (d *Dropbox) Stat(ctx context.Context, name string) (storage.Info, error) {
	p, err := d.path(name)
	if err != nil {
		return storage.Info{}, err
	}
	var m metadata
	if err := d.rpc(ctx, "files/get_metadata", map[string]any{"path": p}, &m); err != nil {
		return storage.Info{}, d.explain(err, "look up "+name+" in")
	}
	if m.Tag != "file" {
		return storage.Info{}, fmt.Errorf("cannot look up %s in %s: %w (it is a folder)", name, d, storage.ErrNotFound)
	}
	return storage.Info{Name: name, Size: m.Size, Modified: m.ServerModified}, nil
}

func (d *Dropbox) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	resp, err := d.download(ctx, p)
	if err != nil {
		return nil, d.explain(err, "read "+name+" from")
	}
	return resp.Body, nil
}

// List lists the folder that holds prefix, recursively, page by page. A
// missing folder holds nothing.
func (d *Dropbox) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	dir := ""
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		dir = "/" + strings.Trim(path.Clean("/"+prefix[:i]), "/")
	}
	root := strings.ToLower(d.folder) + "/"
	var out []storage.Info
	var page listResult
	err := d.rpc(ctx, "files/list_folder", map[string]any{"path": d.folder + dir, "recursive": true, "limit": 2000}, &page)
	for err == nil {
		for _, e := range page.Entries {
			if e.Tag != "file" || !strings.HasPrefix(e.PathLower, root) {
				continue
			}
			// Dropbox guarantees the case of an entry's last component
			// (its name) only; the folders above are PgSafe's own.
			rel := e.PathLower[len(root):]
			if len(e.PathDisplay) == len(e.PathLower) {
				rel = e.PathDisplay[len(root):]
			}
			name := e.Name
			if dir := path.Dir(rel); dir != "." {
				name = dir + "/" + e.Name
			}
			if strings.HasPrefix(name, prefix) {
				out = append(out, storage.Info{Name: name, Size: e.Size, Modified: e.ServerModified})
			}
		}
		if !page.HasMore {
			break
		}
		cursor := page.Cursor
		page = listResult{}
		err = d.rpc(ctx, "files/list_folder/continue", map[string]any{"cursor": cursor}, &page)
	}
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, d.explain(err, "list the files of")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (d *Dropbox) Delete(ctx context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	err = d.rpc(ctx, "files/delete_v2", map[string]any{"path": p}, nil)
	return d.explain(err, "delete "+name+" from")
}

// Space is what the account may still store, and its allocation (for a
// team account: the user's own limit if one is set, else the team's).
func (d *Dropbox) Space(ctx context.Context) (free, total int64, err error) {
	var out struct {
		Used       int64 `json:"used"`
		Allocation struct {
			Tag                string `json:".tag"`
			Allocated          int64  `json:"allocated"`
			Used               int64  `json:"used"` // team: the team's use
			UserWithinTeamSpan int64  `json:"user_within_team_space_allocated"`
		} `json:"allocation"`
	}
	if err := d.rpc(ctx, "users/get_space_usage", nil, &out); err != nil {
		return 0, 0, d.explain(err, "read the free space of")
	}
	a := out.Allocation
	switch {
	case a.Tag == "team" && a.UserWithinTeamSpan > 0:
		return max(a.UserWithinTeamSpan-out.Used, 0), a.UserWithinTeamSpan, nil
	case a.Tag == "team":
		return max(a.Allocated-a.Used, 0), a.Allocated, nil
	}
	return max(a.Allocated-out.Used, 0), a.Allocated, nil
}

// Account names the signed-in account, for people: its email address
// (users/get_current_account).
func (d *Dropbox) Account(ctx context.Context) (string, error) {
	var out struct {
		Email string `json:"email"`
	}
	if err := d.rpc(ctx, "users/get_current_account", nil, &out); err != nil {
		return "", d.explain(err, "read the account of")
	}
	return out.Email, nil
}
