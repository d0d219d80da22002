package pgtools

import (
	"context"
	"fmt"
	"io"
)

// maxSchemaSQL bounds the SQL SchemaSQL keeps.
const maxSchemaSQL = 512 << 20

// SchemaSQL has pg_restore print the SQL of a custom-format archive's
// schema (`pg_restore --schema-only -f -`): every CREATE, owner and grant
// statement, without data. The archive's table of contents holds all of
// it, so pg_restore reads only the start of the stream and stops; the caller
// may stop feeding it then.
func SchemaSQL(ctx context.Context, pgRestore string, archive io.Reader) ([]byte, error) {
	run, err := start(ctx, "pg_restore", pgRestore, []string{"--schema-only", "--file=-"}, Conn{}, archive, nil)
	if err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(run, maxSchemaSQL+1))
	cerr := run.Close()
	if rerr != nil {
		return nil, rerr
	}
	if cerr != nil {
		return nil, cerr
	}
	if len(out) > maxSchemaSQL {
		return nil, fmt.Errorf("the archive's schema is larger than %d MiB", maxSchemaSQL>>20)
	}
	return out, nil
}
