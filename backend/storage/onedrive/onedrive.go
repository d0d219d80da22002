// Package onedrive is a storage in a folder of a OneDrive (personal, or for
// work or school), through Microsoft Graph over plain HTTP: object NAME is
// the file FOLDER/NAME of the signed-in user's drive.
//
// The HTTP client given in Config carries the sign-in (an OAuth 2.0 token
// source adds the access token and refreshes it); this package never sees a
// refresh token. The Graph calls it makes, all documented at
// https://learn.microsoft.com/graph/api/resources/driveitem: GET an item by
// path, GET its children (following @odata.nextLink), DELETE it, PUT
// :/content (small files), POST :/createUploadSession and PUT byte ranges to
// the session's uploadUrl (DELETE it to cancel), GET the item's
// @microsoft.graph.downloadUrl, and GET /me/drive for the quota. Upload and
// download URLs are pre-authenticated: they are sent no Authorization
// header, as Microsoft asks. The tests run against a fake of exactly these
// (testenv.OneDrive): no real Microsoft service can be reached from the test
// machines.
//
// Put is all-or-nothing because OneDrive is: a file written through an
// upload session appears (or replaces the older one, conflictBehavior
// "replace") only when its last byte arrives, and a simple upload only when
// its one request completes. An upload session must be told the file's
// size at the start, and a backup's size is known only at its end: a stream
// longer than SmallMax is first written to a temporary file (unlinked at
// once where the system allows, so even a killed PgSafe leaves none; the
// backup is already encrypted) and then sent in 10 MiB byte ranges (a
// multiple of the 320 KiB Graph requires), one range in memory. A failed or
// cancelled upload cancels its session; one of a killed process is
// invisible and OneDrive drops it at the expirationDateTime it set
// (storage.Expiring: there is nothing to sweep).
package onedrive

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
)

// GraphURL is Microsoft Graph's v1.0 endpoint.
const GraphURL = "https://graph.microsoft.com/v1.0"

// Sizes: byte ranges of an upload session (a multiple of 320 KiB), and the
// largest stream sent with one simple upload (Graph allows 4 MB).
const (
	ChunkSize = 32 * 320 << 10
	SmallMax  = 4 << 20
)

// Config is a folder of the signed-in user's OneDrive, and the clients to
// reach it.
type Config struct {
	// Folder holds the objects: "/PgSafe" ("" or "/" for the drive's top).
	Folder string
	// Client sends Graph requests, adding the access token (an oauth2
	// client). Required.
	Client *http.Client
	// Plain sends requests to the pre-authenticated upload and download
	// URLs, without the token ("": http.DefaultClient).
	Plain *http.Client
	// GraphURL replaces Graph's endpoint (tests: a fake).
	GraphURL string
	// SpoolDir holds the temporary copy of a large upload ("": the user's
	// cache folder).
	SpoolDir string
}

// OneDrive is a folder of a OneDrive.
type OneDrive struct {
	folder        string // "" or "/a/b"
	graph         string
	client, plain *http.Client
	spoolDir      string
	retry         webapi.Retry
}

// New returns the storage cfg describes, after checking that the drive
// answers and the folder is not a file. A missing folder is fine: OneDrive
// creates it with the first file.
func New(ctx context.Context, cfg Config) (*OneDrive, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("sign in to OneDrive first")
	}
	o := &OneDrive{folder: cleanFolder(cfg.Folder), graph: strings.TrimRight(cfg.GraphURL, "/"),
		client: cfg.Client, plain: cfg.Plain, spoolDir: cfg.SpoolDir, retry: webapi.DefaultRetry}
	if o.graph == "" {
		o.graph = GraphURL
	}
	if o.plain == nil {
		o.plain = http.DefaultClient
	}
	var it item
	err := o.call(ctx, http.MethodGet, o.itemURL("", ""), nil, &it)
	switch {
	case err == nil && it.Folder == nil && o.folder != "":
		return nil, fmt.Errorf("cannot open %s: %s is a file, not a folder: choose another folder", o, o.folderName())
	case err != nil && !isNotFound(err):
		return nil, o.explain(err, "open")
	}
	return o, nil
}

func cleanFolder(folder string) string {
	f := path.Clean("/" + strings.TrimSpace(strings.ReplaceAll(folder, "\\", "/")))
	if f == "/" {
		return ""
	}
	return f
}

func (o *OneDrive) folderName() string {
	if o.folder == "" {
		return "the top folder"
	}
	return "the folder " + o.folder
}

// String names the storage: "OneDrive folder /PgSafe".
func (o *OneDrive) String() string {
	if o.folder == "" {
		return "OneDrive (top folder)"
	}
	return "OneDrive folder " + o.folder
}

// LogValue keeps slog to the storage's name.
func (o *OneDrive) LogValue() slog.Value { return slog.StringValue(o.String()) }

// UploadExpiry is 0: OneDrive sets each upload session's expirationDateTime
// itself (storage.Expiring).
func (o *OneDrive) UploadExpiry() time.Duration { return 0 }

// itemURL is the Graph URL of the item at rel (an object name or a folder
// under the storage's folder; "" for the folder itself), with suffix
// ("/children", "/content", "/createUploadSession") after it.
func (o *OneDrive) itemURL(rel, suffix string) string {
	full := o.folder
	if rel != "" {
		full += "/" + rel
	}
	if full == "" {
		return o.graph + "/me/drive/root" + suffix
	}
	var b strings.Builder
	for _, seg := range strings.Split(strings.TrimPrefix(full, "/"), "/") {
		b.WriteString("/" + url.PathEscape(seg))
	}
	if suffix == "" {
		return o.graph + "/me/drive/root:" + b.String()
	}
	return o.graph + "/me/drive/root:" + b.String() + ":" + suffix
}

// check refuses names that are not clean relative paths.
func check(name string) error {
	if name == "" || path.Clean("/"+name) != "/"+name || strings.Contains(name, "\\") {
		return fmt.Errorf("invalid object name %q", name)
	}
	return nil
}

// item is a driveItem, as much as PgSafe reads of it.
type item struct {
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	Modified    time.Time `json:"lastModifiedDateTime"`
	File        *struct{} `json:"file"`
	Folder      *struct{} `json:"folder"`
	DownloadURL string    `json:"@microsoft.graph.downloadUrl"`
}

func (o *OneDrive) Stat(ctx context.Context, name string) (storage.Info, error) {
	if err := check(name); err != nil {
		return storage.Info{}, err
	}
	var it item
	if err := o.call(ctx, http.MethodGet, o.itemURL(name, ""), nil, &it); err != nil {
		return storage.Info{}, o.explain(err, "look up "+name+" in")
	}
	if it.File == nil {
		return storage.Info{}, fmt.Errorf("cannot look up %s in %s: %w (it is a folder)", name, o, storage.ErrNotFound)
	}
	return storage.Info{Name: name, Size: it.Size, Modified: it.Modified}, nil
}

// Open reads the file from its pre-authenticated download URL.
func (o *OneDrive) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := check(name); err != nil {
		return nil, err
	}
	var it item
	if err := o.call(ctx, http.MethodGet, o.itemURL(name, ""), nil, &it); err != nil {
		return nil, o.explain(err, "read "+name+" from")
	}
	if it.File == nil || it.DownloadURL == "" {
		return nil, fmt.Errorf("cannot read %s from %s: %w (it is a folder)", name, o, storage.ErrNotFound)
	}
	resp, err := webapi.Do(ctx, o.plain, o.retry, true, func() (*http.Request, error) {
		return http.NewRequest(http.MethodGet, it.DownloadURL, nil)
	})
	if err == nil {
		if err = answerError(resp); err != nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		return nil, o.explain(err, "read "+name+" from")
	}
	return resp.Body, nil
}

// List walks the folder that holds prefix and the folders under it, page
// by page. A missing folder holds nothing.
func (o *OneDrive) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	dir := ""
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		dir = strings.Trim(path.Clean("/"+prefix[:i]), "/")
	}
	var out []storage.Info
	if err := o.walk(ctx, dir, prefix, &out); err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, o.explain(err, "list the files of")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (o *OneDrive) walk(ctx context.Context, dir, prefix string, out *[]storage.Info) error {
	next := o.itemURL(dir, "/children") + "?$top=1000"
	for next != "" {
		var page struct {
			Value    []item `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := o.call(ctx, http.MethodGet, next, nil, &page); err != nil {
			return err
		}
		for _, it := range page.Value {
			name := it.Name
			if dir != "" {
				name = dir + "/" + it.Name
			}
			switch {
			case it.Folder != nil && (strings.HasPrefix(name+"/", prefix) || strings.HasPrefix(prefix, name+"/")):
				if err := o.walk(ctx, name, prefix, out); err != nil && !isNotFound(err) {
					return err
				}
			case it.File != nil && strings.HasPrefix(name, prefix):
				*out = append(*out, storage.Info{Name: name, Size: it.Size, Modified: it.Modified})
			}
		}
		next = page.NextLink
	}
	return nil
}

// Delete moves the file to OneDrive's recycle bin (where OneDrive keeps it
// for a while, counting it against the quota).
func (o *OneDrive) Delete(ctx context.Context, name string) error {
	if err := check(name); err != nil {
		return err
	}
	return o.explain(o.call(ctx, http.MethodDelete, o.itemURL(name, ""), nil, nil), "delete "+name+" from")
}

// Space is the drive's remaining space and its size (GET /me/drive).
func (o *OneDrive) Space(ctx context.Context) (free, total int64, err error) {
	var drive struct {
		Quota struct {
			Total     int64 `json:"total"`
			Remaining int64 `json:"remaining"`
		} `json:"quota"`
	}
	if err := o.call(ctx, http.MethodGet, o.graph+"/me/drive", nil, &drive); err != nil {
		return 0, 0, o.explain(err, "read the free space of")
	}
	return drive.Quota.Remaining, drive.Quota.Total, nil
}

// Account names the signed-in account, for people: its email address, or
// its sign-in name (GET /me).
func (o *OneDrive) Account(ctx context.Context) (string, error) {
	var me struct {
		Mail string `json:"mail"`
		UPN  string `json:"userPrincipalName"`
	}
	if err := o.call(ctx, http.MethodGet, o.graph+"/me", nil, &me); err != nil {
		return "", o.explain(err, "read the account of")
	}
	if me.Mail != "" {
		return me.Mail, nil
	}
	return me.UPN, nil
}
