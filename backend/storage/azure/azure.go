// Package azure is a storage in a container of Azure Blob Storage (or of
// Azurite, Microsoft's emulator, or a sovereign cloud's endpoint), under an
// optional prefix: object NAME is the block blob PREFIX/NAME.
//
// A Put is all-or-nothing because block blobs are: blocks are staged under
// the blob's name, invisible, and the blob appears (or replaces an older one
// atomically) only when the block list is committed at the end. A stream
// shorter than one block goes up with one Put Blob. Memory stays at two
// blocks: one uploading while the next is read. A Put that fails or is
// cancelled discards its staged blocks; those of a Put whose process was
// killed are found and discarded by RemoveTemp, and Azure itself
// garbage-collects uncommitted blocks a week after the last write.
//
// It signs with the storage account's key (Shared Key) or carries a SAS
// token. Neither appears in any message or log: errors are rewritten with
// the request's URL stripped of its query (where a SAS token travels).
package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// Config is a container, where it is, and the credential to use it: the
// account key or a SAS token, exactly one.
type Config struct {
	Account   string
	Container string
	Prefix    string // blobs are stored under Prefix/ ("" for the container's root)
	// Endpoint is the account's blob service URL; "" is
	// https://ACCOUNT.blob.core.windows.net. Azurite:
	// http://127.0.0.1:10000/ACCOUNT; sovereign clouds: e.g.
	// https://ACCOUNT.blob.core.chinacloudapi.cn.
	Endpoint string

	Key string // the storage account's access key (base64)
	SAS string // a SAS token (sv=…&sig=…), instead of Key
}

// endpoint is the service URL without a trailing slash, https:// when no
// scheme was given.
func (c Config) endpoint() string {
	e := strings.TrimRight(strings.TrimSpace(c.Endpoint), "/")
	if e == "" {
		return "https://" + c.Account + ".blob.core.windows.net"
	}
	if !strings.Contains(e, "://") {
		e = "https://" + e
	}
	return e
}

// place names the endpoint for messages: without user info or query.
func (c Config) place() string {
	if strings.TrimSpace(c.Endpoint) == "" {
		return ""
	}
	u, err := url.Parse(c.endpoint())
	if err != nil {
		return "(an endpoint that is not a URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// blobPrefix is the prefix of every blob name: "" or "a/b/".
func (c Config) blobPrefix() string {
	if p := strings.Trim(c.Prefix, "/"); p != "" {
		return p + "/"
	}
	return ""
}

// String names the container without secrets: "Azure container C of
// account A[ at ENDPOINT][/prefix]".
func (c Config) String() string {
	s := "Azure container " + c.Container + " of account " + c.Account
	if p := c.place(); p != "" {
		s += " at " + p
	}
	if p := c.blobPrefix(); p != "" {
		s += " (folder " + strings.TrimSuffix(p, "/") + ")"
	}
	return s
}

// LogValue keeps slog from printing secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return "azure.Config(" + c.String() + ")" }

// Format keeps every verb (%v, %+v, %d, %x, …) from printing secrets.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// NormalizeSAS returns the token of a SAS as the portal shows it: "?sv=…",
// "sv=…" or a whole SAS URL, as "sv=…&…&sig=…".
func NormalizeSAS(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", errors.New("the SAS token is not a URL nor a token like sv=…&sig=…")
		}
		s = u.RawQuery
	}
	s = strings.TrimPrefix(s, "?")
	q, err := url.ParseQuery(s)
	if err != nil || q.Get("sig") == "" || q.Get("sv") == "" {
		return "", errors.New("the SAS token should look like sv=…&…&sig=… (copy the whole token, or the SAS URL)")
	}
	return s, nil
}

// Azure is a container (and prefix) of a storage account.
type Azure struct {
	cfg       Config
	prefix    string // cfg.blobPrefix()
	container *container.Client
}

// Retries: network errors, 5xx and throttling are retried (the SDK's rules)
// up to retries times after a backoff from retryDelay doubling up to
// retryMax.
var (
	retries    int32 = 3
	retryDelay       = 200 * time.Millisecond
	retryMax         = 5 * time.Second
)

// New returns the storage cfg describes, after checking that its container
// can be listed with its credential.
func New(ctx context.Context, cfg Config) (*Azure, error) {
	switch {
	case strings.TrimSpace(cfg.Account) == "":
		return nil, errors.New("enter the name of the Azure storage account")
	case strings.TrimSpace(cfg.Container) == "":
		return nil, fmt.Errorf("enter the name of the container in the storage account %s", cfg.Account)
	case cfg.Key == "" && cfg.SAS == "":
		return nil, fmt.Errorf("enter the access key or a SAS token for %s", cfg)
	case cfg.Key != "" && cfg.SAS != "":
		return nil, fmt.Errorf("enter either the access key or a SAS token for %s, not both", cfg)
	}
	u, err := url.Parse(cfg.endpoint())
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("the endpoint %q of %s is not an address like https://ACCOUNT.blob.core.windows.net or http://127.0.0.1:10000/ACCOUNT", cfg.place(), cfg.Container)
	}
	containerURL := cfg.endpoint() + "/" + url.PathEscape(cfg.Container)
	opts := &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: retries, RetryDelay: retryDelay, MaxRetryDelay: retryMax},
		// No telemetry header naming this program, and no request logging
		// beyond the SDK's (which redacts the SAS signature).
		Telemetry: policy.TelemetryOptions{Disabled: true},
	}}
	var c *container.Client
	if cfg.Key != "" {
		cred, err := container.NewSharedKeyCredential(cfg.Account, cfg.Key)
		if err != nil {
			return nil, fmt.Errorf("the access key of %s is not valid (it is the base64 text shown as key1 or key2 under the storage account's Access keys)", cfg)
		}
		c, err = container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
		if err != nil {
			return nil, fmt.Errorf("cannot use %s: %s", cfg, describe(err))
		}
	} else {
		sas, err := NormalizeSAS(cfg.SAS)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", cfg, err)
		}
		cfg.SAS = sas
		c, err = container.NewClientWithNoCredential(containerURL+"?"+sas, opts)
		if err != nil {
			return nil, fmt.Errorf("cannot use %s: %s", cfg, describe(err))
		}
	}
	s := &Azure{cfg: cfg, prefix: cfg.blobPrefix(), container: c}
	_, err = c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(s.prefix), MaxResults: to.Ptr[int32](1)}).NextPage(ctx)
	if err != nil {
		return nil, s.explain(err, "list the blobs of")
	}
	return s, nil
}

func (s *Azure) String() string { return s.cfg.String() }

// blobName maps an object name to its blob, refusing names that are not
// clean relative paths.
func (s *Azure) blobName(name string) (string, error) {
	if name == "" || path.Clean("/"+name) != "/"+name || strings.Contains(name, "\\") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return s.prefix + name, nil
}

func (s *Azure) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	b, err := s.blobName(name)
	if err != nil {
		return nil, err
	}
	resp, err := s.container.NewBlobClient(b).DownloadStream(ctx, nil)
	if err != nil {
		return nil, s.explain(err, "read "+name+" from")
	}
	// A dropped connection resumes where it stopped, for the same version
	// of the blob (the SDK checks its ETag).
	return &reader{s: s, name: name, rc: resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: retries})}, nil
}

// reader rewrites a read's error like every other error of the storage.
type reader struct {
	s    *Azure
	name string
	rc   io.ReadCloser
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF {
		err = r.s.explain(err, "read "+r.name+" from")
	}
	return n, err
}

func (r *reader) Close() error { return r.rc.Close() }

func (s *Azure) Stat(ctx context.Context, name string) (storage.Info, error) {
	b, err := s.blobName(name)
	if err != nil {
		return storage.Info{}, err
	}
	p, err := s.container.NewBlobClient(b).GetProperties(ctx, nil)
	if err != nil {
		return storage.Info{}, s.explain(err, "look up "+name+" in")
	}
	return storage.Info{Name: name, Size: deref(p.ContentLength), Modified: deref(p.LastModified)}, nil
}

func (s *Azure) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	items, err := s.list(ctx, prefix, false)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Info, 0, len(items))
	for _, it := range items {
		out = append(out, it.Info)
	}
	return out, nil
}

// item is a listed blob: an object, or (uncommitted) only staged blocks.
type item struct {
	storage.Info
}

// list lists the blobs under prefix in name order; with uncommitted, also
// those that have only staged blocks (and none committed).
func (s *Azure) list(ctx context.Context, prefix string, uncommitted bool) ([]item, error) {
	var out []item
	pages := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix: to.Ptr(s.prefix + prefix), Include: container.ListBlobsInclude{UncommittedBlobs: uncommitted}})
	for pages.More() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.explain(err, "list the blobs of")
		}
		for _, b := range page.Segment.BlobItems {
			name := strings.TrimPrefix(deref(b.Name), s.prefix)
			if name == "" || strings.HasSuffix(name, "/") || b.Properties == nil {
				continue // a "folder" of a hierarchical namespace, not an object of ours
			}
			out = append(out, item{storage.Info{Name: name, Size: deref(b.Properties.ContentLength),
				Modified: deref(b.Properties.LastModified)}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveTemp discards the staged blocks of the blobs under prefix that have
// no committed version, for which stale returns true. Temp.Modified is the
// time of the last block staged. Staged blocks of a name that has an older
// committed blob are not listed by Azure; they stay until Azure's garbage
// collection (a week without a write) removes them.
func (s *Azure) RemoveTemp(ctx context.Context, prefix string, stale func(storage.Temp) bool) ([]storage.Temp, error) {
	committed, err := s.list(ctx, prefix, false)
	if err != nil {
		return nil, err
	}
	all, err := s.list(ctx, prefix, true)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(committed))
	for _, c := range committed {
		have[c.Name] = true
	}
	var out []storage.Temp
	for _, it := range all {
		if have[it.Name] {
			continue
		}
		t := storage.Temp{Name: it.Name + " (uncommitted blocks)", Object: it.Name, Modified: it.Modified}
		if !stale(t) {
			continue
		}
		b, _ := s.blobName(it.Name)
		gone, err := s.discard(ctx, b)
		if err != nil {
			return out, s.explain(err, "remove the blocks of an unfinished upload from")
		}
		if gone {
			out = append(out, t)
		}
	}
	return out, nil
}

// Delete removes the blob and its snapshots.
func (s *Azure) Delete(ctx context.Context, name string) error {
	b, err := s.blobName(name)
	if err != nil {
		return err
	}
	_, err = s.container.NewBlobClient(b).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	return s.explain(err, "delete "+name+" from")
}

// discard drops the staged blocks of blob b when it has no committed
// version, and reports false, without error, when it has one (an older
// object whose blocks stay until Azure's garbage collection). Azurite
// deletes a blob of only staged blocks; Azure may answer that it does not
// exist, and then a Put Blob of nothing, only if no blob exists, discards
// every staged block, and the deletion of exactly that empty blob follows.
// Callers pass only blobs no Put is still writing: a Put committing between
// the look-up and the deletion would lose its blob.
func (s *Azure) discard(ctx context.Context, b string) (bool, error) {
	bb := s.container.NewBlockBlobClient(b)
	if _, err := bb.GetProperties(ctx, nil); err == nil {
		return false, nil
	} else if errorCode(err) != "BlobNotFound" {
		return false, err
	}
	_, err := bb.Delete(ctx, nil)
	if err == nil {
		return true, nil
	}
	if errorCode(err) != "BlobNotFound" {
		return false, err
	}
	up, err := bb.Upload(ctx, nopCloser{strings.NewReader("")}, &blockblobUploadOptionsIfNone)
	if err != nil {
		if code := errorCode(err); code == "BlobAlreadyExists" || code == "ConditionNotMet" {
			return false, nil
		}
		return false, err
	}
	_, err = bb.Delete(ctx, &blob.DeleteOptions{AccessConditions: &blob.AccessConditions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: up.ETag}}})
	if err != nil && errorCode(err) != "BlobNotFound" && errorCode(err) != "ConditionNotMet" {
		return false, err
	}
	return true, nil
}

// errorCode is the storage service's error code of err, or "".
func errorCode(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

// deref is *p, or the zero value for nil.
func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}
