package pg

import (
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// One cluster per major version; its subtests (the audit matrix, the guided
// setup) run on it, in parallel where they can.

func TestPG13(t *testing.T) { t.Parallel(); testMajor(t, 13) }
func TestPG15(t *testing.T) { t.Parallel(); testMajor(t, 15) }
func TestPG17(t *testing.T) { t.Parallel(); testMajor(t, 17) }

func testMajor(t *testing.T, major int) {
	p := testenv.Postgres(t, testenv.WithVersion(major))
	if p.Major != major {
		t.Fatalf("asked for PostgreSQL %d, got %s", major, p.Version)
	}
	t.Run("audit", func(t *testing.T) { testAuditMatrix(t, p) })
	t.Run("fixes", func(t *testing.T) { testAuditFixes(t, p) })
	t.Run("setup", func(t *testing.T) { testSetup(t, p) })
}
