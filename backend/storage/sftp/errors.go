package sftp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	pkgsftp "github.com/pkg/sftp"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// explained is an error whose message already says what to check.
type explained struct{ error }

func (e explained) Unwrap() error { return e.error }

func userErr(format string, a ...any) error { return explained{fmt.Errorf(format, a...)} }

// explain turns an error of an operation (what: "read db/x") on c into what
// the user should check.
func (s *SFTP) explain(err error, what string, c *conn) error {
	var st *pkgsftp.StatusError
	var ex explained
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ex):
		return ex.error
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot %s: %w on %s", what, storage.ErrNotFound, s)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot %s on %s: permission denied to the user %s: check the permissions of the folder on the server (%w)", what, s, s.cfg.User, err)
	case c.lost(err):
		return fmt.Errorf("cannot %s: the connection to the SFTP server %s was lost (%w): check the network, and that the server is running", what, s.cfg.Config, err)
	case errors.As(err, &st):
		return fmt.Errorf("cannot %s on %s: the server answered %w", what, s, err)
	}
	return fmt.Errorf("cannot %s on %s: %w", what, s, err)
}

// explainPut explains why storing name (in the folder dir) failed; it runs
// before the temporary file is removed, so a full disk still shows.
func (s *SFTP) explainPut(ctx context.Context, err error, src *storage.Source, name, dir string, c *conn) error {
	var st *pkgsftp.StatusError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case src.Err != nil && errors.Is(err, src.Err):
		return err // the stream failed, not the server
	case c.lost(err):
		return fmt.Errorf("the connection to the SFTP server %s was lost while storing %s (%w): nothing was stored; check the network, and that the server is running", s.cfg.Config, name, err)
	case errors.As(err, &st) && st.FxCode() == pkgsftp.ErrSSHFxFailure:
		if free, ferr := s.freeOn(c, dir); ferr == nil && free < 1<<20 {
			return fmt.Errorf("the disk of the SFTP server %s is full: free some space on it, or choose another storage (%w)", s.cfg.Config, err)
		}
		return fmt.Errorf("the SFTP server %s could not store %s: its disk may be full or the user's quota used up (%w)", s.cfg.Config, name, err)
	}
	return s.explain(err, "store "+name, c)
}
