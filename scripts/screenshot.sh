#!/usr/bin/env bash
# Starts the production binary under Xvfb (inside its own D-Bus session) with a
# throwaway PGSAFE_HOME and HOME, waits until the window has rendered, saves a
# PNG of the screen and stops the app.
#   scripts/screenshot.sh [OUT.png]          (default build/screenshot.png)
#   PGSAFE_BIN=path  binary to run           (default build/bin/pgsafe)
#   PGSAFE_SHOT_CHECK=script  run once the window has rendered, with PGSAFE_HOME and APP_PID
#                    set; its failure fails the screenshot
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/screenshot.png}
bin=${PGSAFE_BIN:-build/bin/pgsafe}
fail() { echo "screenshot: $*" >&2; exit 1; }
[[ -x $bin ]] || fail "$bin is missing: make build"
for t in xvfb-run dbus-run-session gnome-keyring-daemon xdotool import convert setsid pgrep; do
  command -v "$t" >/dev/null || fail "$t is missing (scripts/setup-deps.sh installs it)"
done
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

tmp=$(mktemp -d)
# A process of the app's that outlived stop() (below) may still write under $tmp for a moment.
cleanup() {
  for _ in 1 2 3 4 5; do rm -rf "$tmp" 2>/dev/null && return; sleep 0.2; done
  rm -rf "$tmp" || echo "screenshot: could not remove $tmp" >&2
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/pgsafe"

# Runs inside Xvfb + dbus-run-session.
cat >"$tmp/inside.sh" <<'INSIDE'
set -euo pipefail
bin=$1 out=$2 tmp=$3
# A desktop session has an unlocked keychain: start one on this private bus
# (gnome-keyring, a fresh login keyring unlocked with a throwaway password),
# so the app opens its master key as it would for a user.
export HOME=$tmp/home XDG_DATA_HOME=$tmp/home/.local/share XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
printf 'screenshot-keyring' | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
# In a process group of its own (setsid), which WebKit's helper processes share.
HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config XDG_CACHE_HOME=$tmp/home/.cache \
XDG_DATA_HOME=$tmp/home/.local/share PGSAFE_HOME=$tmp/pgsafe MESA_SHADER_CACHE_DISABLE=true \
  setsid "$bin" >"$tmp/app.log" 2>&1 &
app=$!
# The window started PgSafe's agent (docs/AGENT.md): stop it too. WebKit's web and network
# processes outlive the window by a moment, still writing under $tmp: end what is left of the
# app's process group and wait until it is empty, so that $tmp can be removed.
stop() {
  kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true
  PGSAFE_HOME=$tmp/pgsafe "$bin" agent stop >/dev/null || { echo "screenshot: the agent did not stop:" >&2; cat "$tmp/pgsafe/agent.log" >&2; }
  kill -- -"$app" 2>/dev/null || true
  for _ in $(seq 1 100); do pgrep -g "$app" >/dev/null || break; sleep 0.1; done
}
trap stop EXIT
alive() { kill -0 "$app" 2>/dev/null || { echo "screenshot: PgSafe exited early:" >&2; cat "$tmp/app.log" >&2; exit 1; }; }

# 1. The window exists.
wid=
for _ in $(seq 1 150); do
  alive
  wid=$(xdotool search --onlyvisible --name '^PgSafe$' 2>/dev/null | head -1 || true)
  [[ -n $wid ]] && break
  sleep 0.2
done
[[ -n $wid ]] || { echo "screenshot: no PgSafe window after 30 s" >&2; cat "$tmp/app.log" >&2; exit 1; }

# 2. The page has rendered: the window holds more than its background colour
#    (a window of one colour means the page's JavaScript failed).
colours=0
for _ in $(seq 1 60); do
  alive
  import -window root "$tmp/shot.png" 2>/dev/null || true
  colours=$(convert "$tmp/shot.png" -format '%k' info: 2>/dev/null || echo 0)
  (( colours > 64 )) && break
  sleep 0.5
done
(( colours > 64 )) || { echo "screenshot: the window stayed blank ($colours colours): the page's JavaScript probably failed" >&2; cat "$tmp/app.log" >&2; exit 1; }

# Optional: a check of the running app, e.g. which agent it started (scripts/test-dist-linux.sh).
if [[ -n ${PGSAFE_SHOT_CHECK:-} ]]; then
  PGSAFE_HOME=$tmp/pgsafe APP_PID=$app bash "$PGSAFE_SHOT_CHECK" || { echo "screenshot: the check $PGSAFE_SHOT_CHECK failed" >&2; exit 1; }
fi

# 3. Let data from Go arrive and fonts settle, then take the picture.
sleep 2
alive
eval "$(xdotool getwindowgeometry --shell "$wid")"
import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$out"
echo "screenshot: $out (${WIDTH}x${HEIGHT})"
INSIDE

export NO_AT_BRIDGE=1
timeout --kill-after=10 120 \
  xvfb-run -a -s "-screen 0 1280x900x24" \
  dbus-run-session -- bash "$tmp/inside.sh" "$bin" "$out" "$tmp" 2> >(grep -v '^dbus-daemon\[' >&2)
