#!/usr/bin/env bash
# Installs the Debian/Ubuntu system packages PgSafe needs to build, run and test.
# Works as root (CI) or through sudo; does nothing when everything is present.
# macOS and Windows prerequisites are in README.md.
set -euo pipefail

PACKAGES=(
  # build: Go cgo toolchain, Wails v2 on GTK3 + WebKitGTK 4.1
  build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev
  # frontend toolchain (Node 20+; the machine image usually has a newer one)
  nodejs npm
  # a real window under Xvfb, screenshots, D-Bus session
  xvfb xauth imagemagick x11-utils xdotool dbus dbus-x11 procps
  # PostgreSQL server (throwaway test clusters) and client tools (pg_dump, pg_restore, psql)
  postgresql-15 postgresql-client-15 postgresql-contrib
  # a real Secret Service keychain
  gnome-keyring libsecret-tools
  # start at login: a private systemd user manager runs the agent's service, GLib's launcher
  # (gio) its XDG autostart entry (backend/tray/autostart)
  systemd util-linux libglib2.0-bin
  # browser end-to-end tests
  chromium
  # SFTP server for storage tests
  openssh-server openssh-client
  # WebDAV server for storage tests (Apache mod_dav, mod_ssl for HTTPS)
  apache2 apache2-utils
  # make dist / test-dist (Linux): the .rpm inspected, the desktop entry and AppStream metainfo
  # validated, the man pages rendered, the installed app's screenshot (xvfb, imagemagick above)
  rpm desktop-file-utils appstream man-db
  # make dist / test-dist (Windows): the NSIS installer built (makensis), the Windows programs and
  # the installer run under Wine (wine64; mingw-w64 builds its shim DLL), the portable zip opened
  nsis wine64 gcc-mingw-w64-x86-64 unzip
  # misc
  ca-certificates git curl xz-utils
)

if [[ "$(uname -s)" != "Linux" ]] || ! command -v dpkg-query >/dev/null; then
  echo "setup-deps: this script installs Debian/Ubuntu packages; see README.md for macOS and Windows" >&2
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  # node/npm may come from NodeSource or nvm instead of Debian: accept a working command.
  if [[ "$p" == nodejs ]] && command -v node >/dev/null; then continue; fi
  if [[ "$p" == npm ]] && command -v npm >/dev/null; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Tests run as root (CI) start PostgreSQL and sshd as this unprivileged user
# (backend/internal/testenv; PostgreSQL refuses to run as root). Without it they
# fall back to "nobody". Not needed when tests run as a normal user.
TEST_USER=pgsafe-test
ensure_test_user() {
  if [[ $EUID -eq 0 ]] && ! getent passwd "$TEST_USER" >/dev/null; then
    echo "setup-deps: creating system user $TEST_USER for test servers" >&2
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$TEST_USER"
  fi
}

if ((${#missing[@]} == 0)); then
  ensure_test_user
  exit 0
fi

SUDO=""
if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi

echo "setup-deps: installing ${missing[*]}" >&2
# Do not let the postgresql package create and start a system cluster: tests start their own.
$SUDO mkdir -p /etc/postgresql-common
if [[ ! -f /etc/postgresql-common/createcluster.conf ]]; then
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Vite 8 needs Node.js 20.19+ (or 22.12+). Debian 12's own nodejs is 18: too old.
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>22||(a===22&&b>=12)||(a===20&&b>=19)||a===21?1:0)' 2>/dev/null || echo 0)
if [[ "$node_ok" != 1 ]]; then
  echo "setup-deps: Node.js $(node --version 2>/dev/null || echo 'not found') is too old; the frontend (Vite 8) needs Node.js 20.19+ or 22.12+." >&2
  echo "setup-deps: install one from https://nodejs.org or NodeSource (Debian 12's nodejs package is 18)." >&2
  exit 1
fi

ensure_test_user
