package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/azure"
	"github.com/pgsafe/pgsafe/backend/storage/local"
	"github.com/pgsafe/pgsafe/backend/storage/s3"
	"github.com/pgsafe/pgsafe/backend/storage/sftp"
	"github.com/pgsafe/pgsafe/backend/storage/webdav"
	"github.com/pgsafe/pgsafe/backend/store"
	"github.com/pgsafe/pgsafe/backend/tunnel"
)

// openStorage connects to a stored storage (with its secrets). Close
// releases its connection, if it has one.
func (e *Engine) openStorage(ctx context.Context, c store.StorageConfig) (storage.Storage, func(), error) {
	none := func() {}
	switch {
	case c.Kind.IsCloud() && c.Cloud != nil:
		s, err := e.openCloud(ctx, c)
		return s, none, err
	case c.Kind == store.StorageLocal && c.Local != nil:
		l, err := local.New(c.Local.Path)
		return l, none, err
	case c.Kind == store.StorageS3 && c.S3 != nil:
		s, err := s3.New(ctx, s3Config(*c.S3))
		if err != nil {
			return nil, none, err
		}
		return s, none, nil
	case c.Kind == store.StorageSFTP && c.SFTP != nil:
		s, err := sftp.New(ctx, sftpConfig(*c.SFTP))
		if err != nil {
			return nil, none, err
		}
		return s, func() { s.Close() }, nil
	case c.Kind == store.StorageWebDAV && c.WebDAV != nil:
		w, err := webdav.New(ctx, webdavConfig(*c.WebDAV))
		if err != nil {
			return nil, none, err
		}
		return w, func() { w.Close() }, nil
	case c.Kind == store.StorageAzure && c.Azure != nil:
		s, err := azure.New(ctx, azureConfig(*c.Azure))
		if err != nil {
			return nil, none, err
		}
		return s, none, nil
	default:
		return nil, none, fmt.Errorf("storage %q (%s) has no settings for its kind", c.Name, c.Kind)
	}
}

func s3Config(c store.S3Storage) s3.Config {
	return s3.Config{Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, Prefix: c.Prefix,
		PathStyle: c.PathStyle, StorageClass: c.StorageClass, SSE: c.SSE,
		ObjectLockDays: c.ObjectLockDays, ObjectLockMode: c.ObjectLockMode,
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey.Reveal(), SessionToken: c.SessionToken.Reveal()}
}

func azureConfig(c store.AzureStorage) azure.Config {
	return azure.Config{Account: c.Account, Container: c.Container, Prefix: c.Prefix, Endpoint: c.Endpoint,
		Key: c.Key.Reveal(), SAS: c.SAS.Reveal()}
}

func sftpConfig(c store.SFTPStorage) sftp.Config {
	return sftp.Config{Path: c.Path, Config: tunnel.Config{Host: c.Host, Port: c.Port, User: c.User,
		Password: c.Password.Reveal(), PrivateKey: []byte(c.PrivateKey.Reveal()), KeyPath: c.KeyPath,
		KeyPassphrase: c.KeyPassphrase.Reveal(), HostKey: c.HostKey, KnownHostsPath: c.KnownHostsPath}}
}

func webdavConfig(c store.WebDAVStorage) webdav.Config {
	return webdav.Config{URL: c.URL, User: c.User, Password: c.Password.Reveal(), CertSHA256: c.CertSHA256}
}

// AddStorage tests and stores a storage.
func (e *Engine) AddStorage(ctx context.Context, c store.StorageConfig) (int64, error) {
	if _, err := e.store.StorageByName(ctx, c.Name); err == nil {
		return 0, fmt.Errorf("a storage named %q exists already: choose another name", c.Name)
	}
	if c.WebDAV != nil {
		if err := webdav.CheckTransport(c.WebDAV.URL, c.WebDAV.Password.IsSet(), c.WebDAV.AllowHTTP); err != nil {
			return 0, err
		}
	}
	s, closeS, err := e.openStorage(ctx, c)
	if err != nil {
		return 0, err
	}
	defer closeS()
	if l, ok := s.(*s3.S3); ok && c.S3.ObjectLockDays > 0 {
		if err := l.CheckObjectLock(ctx); err != nil {
			return 0, err
		}
	}
	if err := probe(ctx, s); err != nil {
		return 0, err
	}
	id, err := e.store.CreateStorage(ctx, c)
	if err != nil {
		return 0, err
	}
	return id, e.record(ctx, Event{Action: "storage.created", Target: c.Name,
		Fields: map[string]string{"id": strconv.FormatInt(id, 10), "kind": string(c.Kind)}})
}

// Storages lists the stored storages (secrets withheld).
func (e *Engine) Storages(ctx context.Context) ([]store.Storage, error) { return e.store.Storages(ctx) }

// TestStorage writes, reads back and deletes a small object.
func (e *Engine) TestStorage(ctx context.Context, name string) error {
	st, err := e.store.StorageByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("storage", name)
	} else if err != nil {
		return err
	}
	c, err := e.store.StorageCredentials(ctx, st.ID)
	if err != nil {
		return err
	}
	s, closeS, err := e.openStorage(ctx, c)
	if err != nil {
		return err
	}
	defer closeS()
	return probe(ctx, s)
}

// RemoveStorage forgets a storage (its backups stay where they are). A
// storage databases still send backups to must be unassigned first.
func (e *Engine) RemoveStorage(ctx context.Context, name string) error {
	st, err := e.store.StorageByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("storage", name)
	} else if err != nil {
		return err
	}
	if err := e.store.DeleteStorage(ctx, st.ID); err != nil {
		return err
	}
	return e.record(ctx, Event{Action: "storage.deleted", Target: name,
		Fields: map[string]string{"id": strconv.FormatInt(st.ID, 10), "kind": string(st.Kind)}})
}

// SetDatabaseStorages sets where the named database's backups go.
func (e *Engine) SetDatabaseStorages(ctx context.Context, name string, storages []string) error {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("db", name)
	} else if err != nil {
		return err
	}
	ids, err := e.storageIDs(ctx, storages)
	if err != nil {
		return err
	}
	c := d.DatabaseConfig
	c.StorageIDs = ids
	changes, err := e.store.UpdateDatabase(ctx, d.ID, c)
	if err != nil || len(changes) == 0 {
		return err
	}
	return e.record(ctx, Event{Action: "db.changed", Target: name,
		Fields: map[string]string{"fields": changes.String(), "storages": strings.Join(storages, ",")}})
}

// probe proves a storage works: put, read back, delete.
func probe(ctx context.Context, s storage.Storage) error {
	var b [16]byte
	rand.Read(b[:])
	name := ".pgsafe-probe-" + hex.EncodeToString(b[:8])
	if err := s.Put(ctx, name, bytes.NewReader(b[:])); err != nil {
		return fmt.Errorf("test write to %s: %w", s, err)
	}
	rc, err := s.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("test read from %s: %w", s, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, b[:]) {
		return fmt.Errorf("test read from %s returned other data (%v)", s, err)
	}
	// A storage that keeps what it stores (Object Lock, write-only
	// credentials) keeps its 16-byte test object too.
	if err := s.Delete(ctx, name); err != nil && !errors.Is(err, storage.ErrDeleteRefused) {
		return fmt.Errorf("test delete on %s: %w", s, err)
	}
	return nil
}

// targets opens every one of the storages ids, or none: the first that
// cannot be opened is the error.
func (e *Engine) targets(ctx context.Context, ids []int64) ([]backup.Target, func(), error) {
	out, closeAll, failed := e.openTargets(ctx, ids)
	if len(failed) > 0 {
		closeAll()
		return nil, nil, failed[0].Err
	}
	return out, closeAll, nil
}

// openTargets opens the storages ids, going on past those that cannot be
// opened (a drive unplugged, a server gone, a grant revoked): a backup to
// two storages still reaches the one that works. failed says which could
// not be opened, and why.
func (e *Engine) openTargets(ctx context.Context, ids []int64) (out []backup.Target, closeAll func(), failed []backup.TargetError) {
	var closers []func()
	closeAll = func() {
		for _, c := range closers {
			c()
		}
	}
	for _, id := range ids {
		t := backup.Target{ID: strconv.FormatInt(id, 10), Name: fmt.Sprintf("storage %d", id)}
		c, err := e.store.StorageCredentials(ctx, id)
		if err != nil {
			failed = append(failed, backup.TargetError{Target: t, Err: fmt.Errorf("storage %d: %w", id, err)})
			continue
		}
		t.Name = c.Name
		s, closeS, err := e.openStorage(ctx, c)
		if err != nil {
			failed = append(failed, backup.TargetError{Target: t, Err: fmt.Errorf("storage %s: %w", c.Name, err)})
			continue
		}
		closers = append(closers, closeS)
		t.Storage = s
		out = append(out, t)
	}
	return out, closeAll, failed
}

// StorageWhere describes where a storage is, without secrets.
func StorageWhere(c store.StorageConfig) string {
	switch {
	case c.Local != nil:
		return c.Local.Path
	case c.S3 != nil:
		where := "s3://" + c.S3.Bucket
		if c.S3.Prefix != "" {
			where += "/" + strings.Trim(c.S3.Prefix, "/")
		}
		if c.S3.Endpoint != "" {
			where += " at " + c.S3.Endpoint
		}
		if c.S3.ObjectLockDays > 0 {
			where += fmt.Sprintf(", locked %d days", c.S3.ObjectLockDays)
		}
		return where
	case c.SFTP != nil:
		port := c.SFTP.Port
		if port == 0 {
			port = 22
		}
		return fmt.Sprintf("sftp://%s@%s:%d/%s", c.SFTP.User, c.SFTP.Host, port, strings.TrimPrefix(c.SFTP.Path, "/"))
	case c.WebDAV != nil:
		return webdavConfig(*c.WebDAV).String()
	case c.Cloud != nil:
		return cloudWhere(c)
	case c.Azure != nil:
		where := "azure://" + c.Azure.Account + "/" + c.Azure.Container
		if p := strings.Trim(c.Azure.Prefix, "/"); p != "" {
			where += "/" + p
		}
		if c.Azure.Endpoint != "" {
			where += " at " + c.Azure.Endpoint
		}
		return where
	}
	return ""
}
