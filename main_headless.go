//go:build headless

// Command pgsafe, built with -tags headless (build/bin/pgsafe-headless), is
// PgSafe's command line without the desktop app: no Wails, GTK or WebKit,
// no cgo. It is for servers and containers, where `pgsafe run` keeps the
// schedules; every command of docs/CLI.md but `pgsafe app` works the same.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pgsafe/pgsafe/backend/cli"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 || args[0] == "app" {
		fmt.Fprintln(os.Stderr, "pgsafe: this is the headless build, without the desktop app: use `pgsafe run` for scheduled backups, `pgsafe --help` for the commands")
		os.Exit(2)
	}
	os.Exit(cli.Run(&cli.Env{Ctx: context.Background(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, args))
}
