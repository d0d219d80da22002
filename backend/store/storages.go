package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StorageKind is where a storage keeps backups.
type StorageKind string

// Storage kinds.
const (
	StorageLocal  StorageKind = "local"  // a folder, also a mounted NAS or USB disk
	StorageS3     StorageKind = "s3"     // S3 or an S3-compatible service
	StorageSFTP   StorageKind = "sftp"   // an SFTP server
	StorageWebDAV StorageKind = "webdav" // a WebDAV folder (Nextcloud, ownCloud, a NAS)
	StorageAzure  StorageKind = "azure"  // a container of Azure Blob Storage
	// Cloud drives PgSafe signs in to with OAuth; their settings are a
	// CloudStorage.
	StorageGDrive   StorageKind = "gdrive"   // Google Drive
	StorageDropbox  StorageKind = "dropbox"  // Dropbox
	StorageOneDrive StorageKind = "onedrive" // OneDrive
)

// IsCloud says whether k is a cloud drive signed in to with OAuth.
func (k StorageKind) IsCloud() bool {
	return k == StorageGDrive || k == StorageDropbox || k == StorageOneDrive
}

// StorageConfig is a storage as the user entered it; exactly the sub-config
// of its Kind is set. The kind is also a plaintext column; the rest is sealed.
type StorageConfig struct {
	Name   string         `json:"name"`
	Kind   StorageKind    `json:"kind"`
	Local  *LocalStorage  `json:"local,omitempty"`
	S3     *S3Storage     `json:"s3,omitempty"`
	SFTP   *SFTPStorage   `json:"sftp,omitempty"`
	WebDAV *WebDAVStorage `json:"webdav,omitempty"`
	Azure  *AzureStorage  `json:"azure,omitempty"`
	Cloud  *CloudStorage  `json:"cloud,omitempty"` // gdrive, dropbox, onedrive
}

// CloudStorage is a folder in a cloud drive PgSafe signed in to through the
// system browser (backend/oauth); Kind says which drive. No password is
// ever kept: the refresh token the sign-in gave, sealed like every secret.
type CloudStorage struct {
	Folder string `json:"folder"` // path from the drive's top, "PgSafe/crm"
	// Account is who signed in ("ann@example.com"), for people.
	Account string `json:"account"`
	// ClientID is the OAuth client the grant belongs to (this build's, or
	// the user's own); ClientSecret that client's, if it has one.
	ClientID     string `json:"client_id"`
	ClientSecret Secret `json:"client_secret"`
	RefreshToken Secret `json:"refresh_token"`
}

// LocalStorage is a folder.
type LocalStorage struct {
	Path string `json:"path"`
}

// S3Storage is a bucket on S3 or an S3-compatible service.
type S3Storage struct {
	Endpoint        string `json:"endpoint"` // empty for AWS
	Region          string `json:"region"`
	Bucket          string `json:"bucket"`
	Prefix          string `json:"prefix"`
	PathStyle       bool   `json:"path_style"`
	StorageClass    string `json:"storage_class"`
	SSE             string `json:"sse"` // server-side encryption: "", "AES256", "aws:kms"
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey Secret `json:"secret_access_key"`
	SessionToken    Secret `json:"session_token"`
	// ObjectLockDays > 0 writes every object with an S3 Object Lock
	// retention of that many days, in ObjectLockMode ("governance" when
	// empty, or "compliance"); docs/STORAGE.md.
	ObjectLockDays int    `json:"object_lock_days,omitempty"`
	ObjectLockMode string `json:"object_lock_mode,omitempty"`
}

// SFTPStorage is a directory on an SFTP server.
type SFTPStorage struct {
	Host           string `json:"host"`
	Port           int    `json:"port"` // 0 means 22
	User           string `json:"user"`
	Password       Secret `json:"password"`
	KeyPath        string `json:"key_path"`
	PrivateKey     Secret `json:"private_key"`
	KeyPassphrase  Secret `json:"key_passphrase"`
	KnownHostsPath string `json:"known_hosts_path"`
	HostKey        string `json:"host_key"` // pinned host key, authorized_keys format
	Path           string `json:"path"`
}

// WebDAVStorage is a folder on a WebDAV server.
type WebDAVStorage struct {
	URL      string `json:"url"` // the folder: http(s)://host/path/
	User     string `json:"user"`
	Password Secret `json:"password"`
	// CertSHA256 pins a self-signed certificate (hex SHA-256); empty: the
	// system's trusted certificates decide.
	CertSHA256 string `json:"cert_sha256"`
	// AllowHTTP: the user chose to send the password over plain http to a
	// server that is not this machine (a trusted network); without it such
	// an address is refused when the storage is added.
	AllowHTTP bool `json:"allow_http,omitempty"`
}

// AzureStorage is a container of an Azure storage account, reached with the
// account's key or a SAS token (exactly one).
type AzureStorage struct {
	Account   string `json:"account"`
	Container string `json:"container"`
	Prefix    string `json:"prefix"`   // a folder in the container; "" for its root
	Endpoint  string `json:"endpoint"` // "" for https://ACCOUNT.blob.core.windows.net
	Key       Secret `json:"key"`
	SAS       Secret `json:"sas"`
}

// Storage is a stored storage, secrets withheld.
type Storage struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	StorageConfig
}

var storages = entity[StorageConfig]{
	table:    "storages",
	noun:     "storage",
	name:     func(c *StorageConfig) string { return c.Name },
	validate: validateStorage,
	columns: func(c *StorageConfig) ([]string, []any) {
		return []string{"kind"}, []any{string(c.Kind)}
	},
}

func validateStorage(c *StorageConfig) error {
	if err := validName("name", c.Name); err != nil {
		return err
	}
	set := 0
	for _, p := range []bool{c.Local != nil, c.S3 != nil, c.SFTP != nil, c.WebDAV != nil, c.Azure != nil, c.Cloud != nil} {
		if p {
			set++
		}
	}
	kindErr := func() error {
		if set != 1 {
			return invalid("kind", "a %s storage needs its %s settings and no others", c.Kind, c.Kind)
		}
		return nil
	}
	switch c.Kind {
	case StorageLocal:
		if c.Local == nil || set != 1 {
			return kindErr()
		}
		if strings.TrimSpace(c.Local.Path) == "" {
			return invalid("local.path", "the folder is required")
		}
	case StorageS3:
		if c.S3 == nil || set != 1 {
			return kindErr()
		}
		if strings.TrimSpace(c.S3.Bucket) == "" {
			return invalid("s3.bucket", "the bucket name is required")
		}
		if c.S3.AccessKeyID != "" && !c.S3.SecretAccessKey.IsSet() {
			return invalid("s3.secret_access_key", "the secret access key is required with an access key ID")
		}
		if c.S3.ObjectLockDays < 0 || c.S3.ObjectLockDays > 36500 {
			return invalid("s3.object_lock_days", "the Object Lock days must be between 0 (no lock) and 36500")
		}
		if m := c.S3.ObjectLockMode; m != "" && m != "governance" && m != "compliance" {
			return invalid("s3.object_lock_mode", "%q is not an Object Lock mode (governance or compliance)", m)
		}
	case StorageSFTP:
		if c.SFTP == nil || set != 1 {
			return kindErr()
		}
		t := c.SFTP
		if strings.TrimSpace(t.Host) == "" {
			return invalid("sftp.host", "the SFTP host is required")
		}
		if err := validPort("sftp.port", t.Port); err != nil {
			return err
		}
		if strings.TrimSpace(t.User) == "" {
			return invalid("sftp.user", "the SFTP user is required")
		}
		if !t.Password.IsSet() && !t.PrivateKey.IsSet() && t.KeyPath == "" {
			return invalid("sftp", "a password, a private key or a key file is required")
		}
	case StorageWebDAV:
		if c.WebDAV == nil || set != 1 {
			return kindErr()
		}
		u := strings.TrimSpace(c.WebDAV.URL)
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return invalid("webdav.url", "the folder's address is required, starting with https:// (or http://)")
		}
		if strings.TrimSpace(c.WebDAV.User) == "" {
			return invalid("webdav.user", "the WebDAV user is required")
		}
	case StorageGDrive, StorageDropbox, StorageOneDrive:
		if c.Cloud == nil || set != 1 {
			return kindErr()
		}
		if !c.Cloud.RefreshToken.IsSet() {
			return invalid("cloud.refresh_token", "sign in first: the storage has no permission to use the account")
		}
		if strings.TrimSpace(c.Cloud.ClientID) == "" {
			return invalid("cloud.client_id", "the OAuth client ID of the sign-in is required")
		}
	case StorageAzure:
		if c.Azure == nil || set != 1 {
			return kindErr()
		}
		a := c.Azure
		if strings.TrimSpace(a.Account) == "" {
			return invalid("azure.account", "the storage account's name is required")
		}
		if strings.TrimSpace(a.Container) == "" {
			return invalid("azure.container", "the container's name is required")
		}
		if a.Key.IsSet() == a.SAS.IsSet() {
			return invalid("azure", "the access key or a SAS token is required, not both")
		}
	default:
		return invalid("kind", "%q is not a storage kind (local, s3, sftp, webdav, azure, gdrive, dropbox or onedrive)", c.Kind)
	}
	return nil
}

// cloneStorage copies the sub-configs so that merging secrets never writes
// into the caller's structs.
func cloneStorage(c StorageConfig) StorageConfig {
	if c.Local != nil {
		l := *c.Local
		c.Local = &l
	}
	if c.S3 != nil {
		s := *c.S3
		c.S3 = &s
	}
	if c.SFTP != nil {
		s := *c.SFTP
		c.SFTP = &s
	}
	if c.WebDAV != nil {
		w := *c.WebDAV
		c.WebDAV = &w
	}
	if c.Cloud != nil {
		cl := *c.Cloud
		c.Cloud = &cl
	}
	if c.Azure != nil {
		a := *c.Azure
		c.Azure = &a
	}
	return c
}

// CreateStorage stores a new storage and returns its id.
func (s *Store) CreateStorage(ctx context.Context, c StorageConfig) (int64, error) {
	c = cloneStorage(c)
	var id int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = storages.create(ctx, s, tx, &c)
		return err
	})
	return id, err
}

// UpdateStorage replaces storage id's settings and reports the changed
// fields; secrets follow UpdateDatabase's rules. The kind cannot change.
func (s *Store) UpdateStorage(ctx context.Context, id int64, c StorageConfig) (Changes, error) {
	c = cloneStorage(c)
	var changes Changes
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := storages.get(ctx, s, tx, id, false)
		if err != nil {
			return err
		}
		if old.Config.Kind != c.Kind {
			return invalid("kind", "a %s storage cannot become %s: add a new storage instead", old.Config.Kind, c.Kind)
		}
		changes, err = storages.update(ctx, s, tx, id, &c)
		return err
	})
	return changes, err
}

// DeleteStorage removes storage id. A storage that databases still back up
// to is refused; the records of backup copies on it go with it.
func (s *Store) DeleteStorage(ctx context.Context, id int64) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM database_storages WHERE storage_id = ?", id).Scan(&n); err != nil {
			return s.wrap("remove storage", err)
		}
		if n > 0 {
			return &ConflictError{Msg: fmt.Sprintf("storage %d is used by %d database(s): remove it from them first", id, n)}
		}
		// The sealed lists are the truth; database_storages is their index.
		dbs, err := databases.list(ctx, s, tx, false)
		if err != nil {
			return err
		}
		for _, d := range dbs {
			if slices.Contains(d.Config.StorageIDs, id) {
				return &ConflictError{Msg: fmt.Sprintf("storage %d is used by database %d: remove it from it first", id, d.ID)}
			}
		}
		// What ON DELETE CASCADE would do, unbinding each row (integrity.go).
		if _, err := s.deleteRows(ctx, tx, "backup_copies", "storage_id = ?", id); err != nil {
			return err
		}
		return storages.delete(ctx, s, tx, id)
	})
}

// Storage returns storage id, secrets withheld.
func (s *Store) Storage(ctx context.Context, id int64) (Storage, error) {
	r, err := storages.get(ctx, s, s.db, id, false)
	return storageOf(r), err
}

// StorageByName returns the storage named name, secrets withheld.
func (s *Store) StorageByName(ctx context.Context, name string) (Storage, error) {
	r, err := storages.byName(ctx, s, s.db, name, false)
	return storageOf(r), err
}

// Storages lists all storages by id, secrets withheld.
func (s *Store) Storages(ctx context.Context) ([]Storage, error) {
	rows, err := storages.list(ctx, s, s.db, false)
	out := make([]Storage, len(rows))
	for i, r := range rows {
		out[i] = storageOf(r)
	}
	return out, err
}

// StorageCredentials returns storage id with its secrets, for the engine.
// Never hand the result to the UI.
func (s *Store) StorageCredentials(ctx context.Context, id int64) (StorageConfig, error) {
	r, err := storages.get(ctx, s, s.db, id, true)
	return r.Config, err
}

func storageOf(r row[StorageConfig]) Storage {
	return Storage{ID: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, StorageConfig: r.Config}
}
