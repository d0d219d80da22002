//go:build !windows

package scratch_test

import (
	"context"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools/scratch"
)

// BenchmarkStartClose is the fixed cost a drill without a drill server adds:
// initdb, start until a connection is accepted, stop and remove (PG 15).
func BenchmarkStartClose(b *testing.B) {
	bin := testenv.ServerBinDir(b, 15)
	var owner *scratch.Owner
	if name, uid, gid, ok := testenv.ServerAccount(b); ok {
		owner = &scratch.Owner{Name: name, Uid: uid, Gid: gid}
	}
	for b.Loop() {
		c, err := scratch.Start(context.Background(), scratch.Options{BinDir: bin, Owner: owner})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
