//go:build dev

package update

import (
	"crypto/x509"
	"log/slog"
	"os"
	"runtime"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
)

// Development builds only (the `dev` tag: `make dev` and the browser e2e
// tests), never a release: the feed and the certificate its server uses
// may come from the environment, so that a test can point the app at a
// local HTTPS server.
const (
	envDevFeed = "PGSAFE_DEV_UPDATE_FEED"    // an https URL
	envDevCA   = "PGSAFE_DEV_UPDATE_CA_FILE" // a PEM file of the CA the feed's server chains to
)

// FromBuild are the options this build checks with: the feed stamped at
// build time, or PGSAFE_DEV_UPDATE_FEED (with PGSAFE_DEV_UPDATE_CA_FILE).
func FromBuild() Options {
	o := Options{Feed: buildinfo.UpdateFeed, Version: buildinfo.Version, OS: runtime.GOOS}
	if feed := os.Getenv(envDevFeed); feed != "" {
		o.Feed = feed
	}
	if file := os.Getenv(envDevCA); file != "" {
		pem, err := os.ReadFile(file)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			slog.Error("development build: "+envDevCA+" holds no PEM certificate", "file", file, "err", err)
		}
		o.RootCAs = pool
	}
	return o
}
