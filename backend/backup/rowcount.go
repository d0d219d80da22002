package backup

import (
	"log/slog"

	"github.com/pgsafe/pgsafe/backend/pgarchive"
)

// countRows fills in the rows of the snapshot's tables from what the counter
// read in pg_dump's archive as it streamed past: exact by construction, the
// rows counted are the rows stored. Tables that record says to leave out,
// that the archive holds no countable data of, or all of them when the
// archive could not be read to its end, stay not counted (and are logged:
// the backup itself is good, its drill compares fewer tables). It reports
// whether every table was counted.
func countRows(tables []TableCount, c *pgarchive.Counter, record func(schema, name string) bool, log *slog.Logger) bool {
	if err := c.Close(); err != nil {
		log.Warn("rows not counted: the dump stream could not be read", "err", err)
		return len(tables) == 0
	}
	type key struct{ schema, name string }
	counted := map[key]int64{}
	for _, t := range c.Tables() {
		if t.Counted {
			counted[key{t.Schema, t.Name}] += t.Rows
		}
	}
	all := true
	var missing []string
	for i := range tables {
		t := &tables[i]
		if record != nil && !record(t.Schema, t.Name) {
			all = false
			continue
		}
		n, ok := counted[key{t.Schema, t.Name}]
		if !ok {
			missing = append(missing, t.Schema+"."+t.Name)
			all = false
			continue
		}
		t.Rows, t.Counted = n, true
	}
	if len(missing) > 0 {
		log.Warn("rows not counted: the dump holds no data it can count of some tables", "tables", len(missing), "first", missing[:min(5, len(missing))])
	}
	return all
}
