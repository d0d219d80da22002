package ui

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

// StorageService is the Storages screen: list, add (tested first), test,
// remove, and which storages a database's backups go to.
type StorageService struct{ core *Core }

// NewStorageService returns the service bound as StorageService.
func NewStorageService(c *Core) *StorageService { return &StorageService{core: c} }

// StorageView is a storage as the UI shows it: no secret, only whether one is set.
type StorageView struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Where     string `json:"where"`
	SecretSet bool   `json:"secretSet"`
}

func storageView(s store.Storage) StorageView {
	return StorageView{ID: s.ID, Name: s.Name, Kind: string(s.Kind), Where: engine.StorageWhere(s.StorageConfig),
		SecretSet: engine.StorageSecretSet(s.StorageConfig)}
}

// StorageForm is the Add storage dialog. Secrets go in, never come back.
type StorageForm struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // local, s3, sftp, webdav, azure
	Path string `json:"path"` // local: folder; sftp: folder on the server
	// S3
	Endpoint     string `json:"endpoint"`
	Region       string `json:"region"`
	Bucket       string `json:"bucket"`
	Prefix       string `json:"prefix"`
	PathStyle    bool   `json:"pathStyle"`
	StorageClass string `json:"storageClass"`
	SSE          string `json:"sse"`
	AccessKeyID  string `json:"accessKeyId"`
	SecretKey    string `json:"secretKey"`
	// ObjectLockDays > 0 keeps every backup undeletable that many days
	// (S3 Object Lock), in ObjectLockMode: "governance" or "compliance".
	ObjectLockDays int    `json:"objectLockDays"`
	ObjectLockMode string `json:"objectLockMode"`
	// SFTP
	Host          string `json:"host"`
	Port          int    `json:"port"`
	User          string `json:"user"`
	Password      string `json:"password"`
	KeyPath       string `json:"keyPath"`
	KeyPassphrase string `json:"keyPassphrase"`
	HostKey       string `json:"hostKey"` // the server's key the user checked (from HostKey)
	// WebDAV (User and Password above)
	URL        string `json:"url"`        // the folder's address
	CertSHA256 string `json:"certSha256"` // a self-signed certificate's fingerprint the user checked
	// AllowHTTP: the user ticked "Send the password unencrypted" for an
	// http:// address of another machine (the engine refuses it without).
	AllowHTTP bool `json:"allowHttp"`
	// Azure Blob Storage (and Endpoint, Prefix above)
	Account    string `json:"account"`
	Container  string `json:"container"`
	AccountKey string `json:"accountKey"`
	SAS        string `json:"sas"` // a SAS token, instead of AccountKey
}

func (f StorageForm) config() (store.StorageConfig, error) {
	in := engine.StorageInput{Name: f.Name, Kind: f.Kind, Path: f.Path, Endpoint: f.Endpoint, Region: f.Region, Bucket: f.Bucket,
		Prefix: f.Prefix, PathStyle: f.PathStyle, StorageClass: f.StorageClass, SSE: f.SSE, AccessKeyID: f.AccessKeyID, SecretKey: f.SecretKey,
		ObjectLockDays: f.ObjectLockDays, ObjectLockMode: f.ObjectLockMode,
		Host: f.Host, Port: f.Port, User: f.User, Password: f.Password, KeyPath: f.KeyPath, KeyPassphrase: f.KeyPassphrase, HostKey: f.HostKey,
		URL: f.URL, CertSHA256: f.CertSHA256, AllowHTTP: f.AllowHTTP}
	in.Account, in.Container, in.AccountKey, in.SAS = f.Account, f.Container, f.AccountKey, f.SAS
	return in.Config()
}

// List returns the storages.
func (s *StorageService) List() ([]StorageView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	sts, err := e.Storages(context.Background())
	if err != nil {
		return nil, err
	}
	out := make([]StorageView, len(sts))
	for i, st := range sts {
		out[i] = storageView(st)
	}
	return out, nil
}

// Add tests the storage (write, read back, delete) and saves it.
func (s *StorageService) Add(f StorageForm) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	c, err := f.config()
	if err != nil {
		return err
	}
	_, err = e.AddStorage(context.Background(), c)
	return err
}

// Test writes, reads back and deletes a small object.
func (s *StorageService) Test(name string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.TestStorage(context.Background(), name)
}

// Remove forgets a storage; its backups stay where they are.
func (s *StorageService) Remove(name string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.RemoveStorage(context.Background(), name)
}

// HostKey fetches an SFTP server's host key to show its fingerprint.
func (s *StorageService) HostKey(f StorageForm) (*HostKey, error) {
	hk, err := engine.SSHHostKey(context.Background(), store.SSHTunnel{Host: f.Host, Port: f.Port, User: f.User})
	if err != nil {
		return nil, err
	}
	return &HostKey{Fingerprint: hk.Fingerprint, Key: hk.Key}, nil
}

// SetDatabaseStorages sets where a database's backups go.
func (s *StorageService) SetDatabaseStorages(db string, storages []string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.SetDatabaseStorages(context.Background(), db, storages)
}
