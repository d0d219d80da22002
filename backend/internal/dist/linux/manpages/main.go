// Command manpages writes PgSafe's manual pages (cli.ManPages) into a folder,
// dated SOURCE_DATE_EPOCH so that packages built twice from one commit hold
// the same pages. scripts/dist-linux.sh runs it:
//
//	go run -ldflags "$PGSAFE_LDFLAGS" ./backend/internal/dist/linux/manpages DIR
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: manpages DIR (SOURCE_DATE_EPOCH dates the pages)")
		os.Exit(2)
	}
	date, err := sourceDate(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		slog.Error("no date for the man pages", "err", err)
		os.Exit(1)
	}
	if err := cli.ManPages(os.Args[1], date); err != nil {
		slog.Error("man pages not written", "err", err)
		os.Exit(1)
	}
}

// sourceDate is the time SOURCE_DATE_EPOCH names (seconds since 1970, UTC).
func sourceDate(epoch string) (time.Time, error) {
	if epoch == "" {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH is not set (scripts/dist.sh sets it to the commit's time)")
	}
	s, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds: %w", epoch, err)
	}
	return time.Unix(s, 0).UTC(), nil
}
