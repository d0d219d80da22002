// Command macbundle writes PgSafe.app (package macos) from executables
// built elsewhere; scripts/dist-macos.sh runs it:
//
//	go run ./backend/internal/dist/macos/cmd/macbundle -window W -agent A -out DIR
//
// The version and time default to VERSION and SOURCE_DATE_EPOCH (as
// scripts/dist.sh exports them), the icon to build/appicon.png, the
// copyright to wails.json's. It prints the bundle's path.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/dist/macos"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "macbundle:", err)
		os.Exit(1)
	}
}

func run() error {
	b := macos.Bundle{}
	var icon, wails, out, epoch string
	flag.StringVar(&b.Window, "window", "", "the window's executable (Contents/MacOS/pgsafe)")
	flag.StringVar(&b.Agent, "agent", "", "the agent's executable (the headless build with cgo)")
	flag.StringVar(&b.Version, "version", os.Getenv("VERSION"), "PgSafe's version")
	flag.StringVar(&epoch, "epoch", os.Getenv("SOURCE_DATE_EPOCH"), "every file's time, in seconds since 1970")
	flag.StringVar(&icon, "icon", "build/appicon.png", "the app icon, a square PNG")
	flag.StringVar(&wails, "wails", "wails.json", "wails.json, for the copyright line")
	flag.StringVar(&out, "out", "", "the folder to write PgSafe.app into")
	flag.Parse()
	if out == "" || flag.NArg() > 0 {
		return fmt.Errorf("usage: macbundle -window FILE -agent FILE -out DIR [-version V] [-epoch SECONDS]")
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return fmt.Errorf("-epoch (SOURCE_DATE_EPOCH) %q: %w", epoch, err)
	}
	b.Time = time.Unix(secs, 0).UTC()
	if b.IconPNG, err = os.ReadFile(icon); err != nil {
		return err
	}
	raw, err := os.ReadFile(wails)
	if err != nil {
		return err
	}
	var project struct {
		Info struct {
			Copyright string `json:"copyright"`
		} `json:"info"`
	}
	if err := json.Unmarshal(raw, &project); err != nil {
		return fmt.Errorf("%s: %w", wails, err)
	}
	b.Copyright = project.Info.Copyright
	app, err := b.Write(out)
	if err != nil {
		return err
	}
	fmt.Println(app)
	return nil
}
