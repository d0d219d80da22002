package engine

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/pg"
)

// SetupResult is a read-only role created by the guided setup.
type SetupResult struct {
	SQL      string     `json:"sql"` // what ran (the password appears only as a SCRAM verifier)
	Role     string     `json:"role"`
	Report   pg.Report  `json:"report"` // the new role's own audit
	Added    *AddResult `json:"added,omitempty"`
	Password pg.Secret  `json:"-"` // the new role's password, for the caller to show once
	// Plan is what ran, and Target the new role's connection without its
	// password (user@host:port/database), for the command line's report.
	Plan   pg.SetupPlan `json:"-"`
	Target string       `json:"-"`
}

// PlanReadOnlyRole returns the SQL that would create a read-only role, for
// review; admin credentials are used for this call only.
func PlanReadOnlyRole(ctx context.Context, adminURL, role string, opts pg.SetupOptions) (pg.SetupPlan, error) {
	admin, err := pg.ParseConnString(adminURL)
	if err != nil {
		return pg.SetupPlan{}, err
	}
	conn, err := pg.Connect(ctx, admin)
	if err != nil {
		return pg.SetupPlan{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pg.SetupReadOnlySQL(ctx, conn, role, opts)
}

// SetupReadOnlyRole creates a read-only role with admin credentials typed in
// for this moment (never stored, never logged), audits it as itself, and, if
// saveAs is set, stores the NEW role's credentials as database saveAs.
func (e *Engine) SetupReadOnlyRole(ctx context.Context, adminURL, role string, opts pg.SetupOptions, saveAs string, storages []string) (*SetupResult, error) {
	admin, err := pg.ParseConnString(adminURL)
	if err != nil {
		return nil, err
	}
	res, err := pg.SetupReadOnly(ctx, admin, role, opts)
	if err != nil {
		e.record(ctx, Event{Action: "database.readonly_role_failed", Outcome: "failed", Target: role, Message: err.Error()})
		return nil, err
	}
	out := &SetupResult{SQL: res.Plan.SQL(), Role: role, Report: res.Report, Password: res.Plan.Password,
		Plan: res.Plan, Target: res.Config.String()}
	if err := e.record(ctx, Event{Action: "database.readonly_role_created", Target: role,
		Fields: map[string]string{"method": res.Plan.Method, "verdict": string(res.Report.Verdict)}}); err != nil {
		return nil, err
	}
	if saveAs == "" {
		return out, nil
	}
	c := res.Config
	in := DatabaseInput{Name: saveAs, Host: c.Host, Port: c.Port, DBName: c.Database, User: c.User, Password: c.Password.Reveal(),
		SSLMode: string(c.SSLMode), StorageNames: storages, CountRows: true}
	added, err := e.AddDatabase(ctx, in, AddOptions{})
	if err != nil {
		return out, err
	}
	out.Added = added
	return out, nil
}
