package keys

import (
	"os"
	"testing"
)

// testKDF is what this package's tests seal kits with: the same code path as
// ProductionKDF at a fraction of the cost. TestProductionKDF checks the real one.
var testKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func TestMain(m *testing.M) {
	kdfParams = testKDF
	os.Exit(m.Run())
}
