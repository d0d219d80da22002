package engine

import (
	"context"
	"fmt"

	"github.com/pgsafe/pgsafe/backend/credcmd"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// resolve is how c connects now: when c has a credentials command, it runs
// and what it printed fills the connection (all of it for a URL command,
// the password for a password command), for this one use. The result
// carries no command, so resolving it again changes nothing; it is never
// stored (a stored config is read again for every connection). Every
// connection to a stored database goes through here (connect): backup,
// health check, privilege audit, scheduled readiness test, restore to the
// same server.
func resolve(ctx context.Context, c store.DatabaseConfig) (store.DatabaseConfig, error) {
	if line := c.URLCommand.Reveal(); line != "" {
		out, err := credcmd.Run(ctx, line, credcmd.Options{})
		if err != nil {
			return c, err
		}
		s, err := credcmd.ConnString(out)
		if err != nil {
			return c, err
		}
		p, err := pg.ParseConnString(s)
		if err != nil {
			return c, fmt.Errorf("%s printed a connection string PgSafe cannot use: %w", credcmd.Prefix, err)
		}
		// A server entry's database keeps its own name (the printed one
		// is the database the server's databases are listed from).
		if c.DBName == "" {
			c.DBName = p.Database
		}
		c.Host, c.Port, c.User = p.Host, p.Port, p.User
		c.Password = store.NewSecret(p.Password.Reveal())
		c.SSLMode, c.SSLRootCert, c.SSLCert, c.SSLKey = string(p.SSLMode), p.SSLRootCert, p.SSLCert, p.SSLKey
		c.SSLPassword = store.NewSecret(p.SSLPassword.Reveal())
		c.URLCommand = store.Secret{}
	}
	if line := c.PasswordCommand.Reveal(); line != "" {
		out, err := credcmd.Run(ctx, line, credcmd.Options{})
		if err != nil {
			return c, err
		}
		pw, err := credcmd.Password(out)
		if err != nil {
			return c, err
		}
		c.Password = store.NewSecret(pw)
		c.PasswordCommand = store.Secret{}
	}
	return c, nil
}

// commandsOf are the input's credentials commands as a store config holds
// them: a command typed is set; left empty while its Use flag is on, it
// keeps stored (in an edit; in an add there is nothing to keep); off, it
// is removed. Their syntax is checked here, so a command that cannot run
// is refused before anything is stored.
func (in DatabaseInput) commandsOf(stored store.DatabaseConfig) (urlCmd, pwCmd store.Secret, err error) {
	pick := func(use bool, typed string, kept store.Secret, what string) (store.Secret, error) {
		switch {
		case typed != "":
			if _, err := credcmd.Split(typed); err != nil {
				return store.Secret{}, err
			}
			return store.NewSecret(typed), nil
		case !use:
			return store.Secret{}, nil
		case kept.HasValue():
			return kept, nil
		}
		return store.Secret{}, fmt.Errorf("give the command that prints %s", what)
	}
	if urlCmd, err = pick(in.UseURLCommand, in.URLCommand, stored.URLCommand, "the connection URL"); err != nil {
		return urlCmd, pwCmd, err
	}
	pwCmd, err = pick(in.UsePasswordCommand, in.PasswordCommand, stored.PasswordCommand, "the password")
	return urlCmd, pwCmd, err
}
