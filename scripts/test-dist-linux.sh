#!/usr/bin/env bash
# Checks the Linux artifacts of make dist on this machine (docs/PACKAGING.md, "Linux"), as a user
# would meet them: the .deb installed with apt (its dependencies resolved by apt), both binaries
# run, the installed app shows its window under Xvfb and starts /usr/bin/pgsafe-headless as its
# agent, the desktop entry, metainfo and man page are valid, and apt-get purge leaves nothing. The
# .rpm must hold the same files as the .deb; the headless tarball must run.
#   DIST=dir   where make dist put the artifacts (default dist/)
# Needs root (or sudo): it installs and purges the pgsafe package of this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-dist-linux: FAIL: $*" >&2; exit 1; }
say() { echo "test-dist-linux: $*" >&2; }

dist=${DIST:-dist}
version=${VERSION:-$(bash scripts/version.sh)}

SUDO=""
if [[ $EUID -ne 0 ]]; then
  command -v sudo >/dev/null || fail "run as root or install sudo: the check installs and purges the pgsafe package"
  SUDO=sudo
fi
# Tool -> the Debian package that has it (scripts/setup-deps.sh installs them all).
declare -A needs=(
  [apt-get]=apt [dpkg]=dpkg [dpkg-deb]=dpkg [rpm]=rpm [desktop-file-validate]=desktop-file-utils
  [appstreamcli]=appstream [man]=man-db [xvfb-run]=xvfb [tar]=tar [gzip]=gzip
)
for t in "${!needs[@]}"; do
  command -v "$t" >/dev/null || fail "$t is missing: apt-get install ${needs[$t]} (or make system-deps)"
done

one() { # the single file matching a pattern, or fail
  local -a m
  mapfile -t m < <(compgen -G "$1" || true)
  ((${#m[@]} == 1)) || fail "want exactly one $1, found ${#m[@]}: run make dist"
  echo "${m[0]}"
}
deb=$(one "$dist/pgsafe_*_amd64.deb")
rpm=$(one "$dist/pgsafe-*.x86_64.rpm")
tgz=$(one "$dist/pgsafe-headless_*_linux_amd64.tar.gz")
say "version $version; $deb, $rpm, $tgz"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the packages' metadata and file lists --------------------------------------------------
[[ $(dpkg-deb -f "$deb" Package) == pgsafe ]] || fail "$deb is not the pgsafe package"
depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
for d in libgtk-3-0 libwebkit2gtk-4.1-0; do
  [[ ", $depends," == *", $d,"* ]] || fail "the .deb does not depend on $d (Depends: $depends)"
done
[[ $recommends == *postgresql-client* ]] || fail "the .deb does not recommend postgresql-client (Recommends: $recommends)"

# Files only (directories are the system's); paths as installed.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | LC_ALL=C sort >"$tmp/deb.files"
rpm -qlp "$rpm" 2>/dev/null | LC_ALL=C sort >"$tmp/rpm.files"
diff -u "$tmp/deb.files" "$tmp/rpm.files" >&2 || fail "the .rpm and the .deb hold different files (above: - .deb, + .rpm)"
for f in /usr/bin/pgsafe /usr/bin/pgsafe-headless /usr/share/applications/pgsafe.desktop \
  /usr/share/metainfo/io.github.pgsafe.PgSafe.metainfo.xml /usr/share/icons/hicolor/scalable/apps/pgsafe.svg \
  /usr/share/icons/hicolor/48x48/apps/pgsafe.png /usr/share/icons/hicolor/256x256/apps/pgsafe.png \
  /usr/share/man/man1/pgsafe.1.gz /usr/share/man/man1/pgsafe-headless.1.gz /usr/share/doc/pgsafe/copyright; do
  grep -qxF "$f" "$tmp/deb.files" || fail "the packages lack $f"
done
rpm_requires=$(rpm -qp --requires "$rpm" 2>/dev/null)
for d in gtk3 webkit2gtk4.1; do
  grep -qx "$d" <<<"$rpm_requires" || fail "the .rpm does not require $d (requires: $(tr '\n' ' ' <<<"$rpm_requires"))"
done
rpm -qp --recommends "$rpm" 2>/dev/null | grep -qx postgresql || fail "the .rpm does not recommend postgresql"
# Every file root's, binaries executable, the rest not.
rpm -qlvp "$rpm" 2>/dev/null | awk '$3 != "root" || $4 != "root" {print "owner:", $0; bad=1}
  $NF ~ /^\/usr\/bin\// && $1 != "-rwxr-xr-x" {print "mode:", $0; bad=1}
  $NF !~ /^\/usr\/bin\// && $1 != "-rw-r--r--" {print "mode:", $0; bad=1} END {exit bad}' >&2 ||
  fail "the .rpm's owners or modes are wrong (above)"
say "the .deb and the .rpm hold the same $(wc -l <"$tmp/deb.files") files; dependencies declared"

# ---- the headless tarball ---------------------------------------------------------------------
tar -tvzf "$tgz" | awk '$2 != "0/0" {print; bad=1} END {exit bad}' >&2 || fail "$tgz has files not owned by 0/0 (above)"
tar -xzf "$tgz" -C "$tmp"
tdir=$tmp/$(basename "$tgz" .tar.gz)
for f in pgsafe-headless README.txt COPYRIGHT; do [[ -f $tdir/$f ]] || fail "$tgz lacks $f"; done
got=$("$tdir/pgsafe-headless" version | awk '{print $2}')
[[ $got == "$version" ]] || fail "the tarball's pgsafe-headless says version '$got', want '$version'"
say "the tarball's pgsafe-headless runs ($version)"

# ---- install ----------------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
installed() { # installed, or removed with its configuration kept
  local s
  s=$(dpkg-query -W -f='${db:Status-Status}' pgsafe 2>/dev/null || true)
  [[ -n $s && $s != not-installed ]]
}
if installed; then
  # A development build is what an earlier run left; a release is someone's PgSafe: keep it.
  have=$(dpkg-query -W -f='${Version}' pgsafe)
  [[ $have == *~dev* ]] || fail "PgSafe $have (a release) is installed on this machine, and this check installs and purges the pgsafe package: remove it yourself first (sudo apt-get remove pgsafe; settings and backups stay), or run the check on another machine"
  say "pgsafe $have is on this machine already (an earlier run?): purging it first"
  $SUDO apt-get purge -y -qq pgsafe >/dev/null
fi
# What a purge must take back to: the pgsafe paths under /etc and /var now.
leftovers() { $SUDO find /etc /var/lib /var/cache /var/log -iname '*pgsafe*' 2>/dev/null | LC_ALL=C sort; }
leftovers >"$tmp/before.paths"

say "apt-get install ./$deb"
if ! $SUDO apt-get install -y -qq "./$deb" >"$tmp/apt.log" 2>&1; then
  # A fresh machine may have no package lists yet for the dependencies.
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "./$deb" >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get install ./$deb failed (above)"; }
fi
status=$(dpkg-query -W -f='${Status} ${Version}' pgsafe)
[[ $status == "install ok installed $(dpkg-deb -f "$deb" Version)" ]] || fail "after apt-get install: $status"

for bin in /usr/bin/pgsafe pgsafe-headless; do
  got=$("$bin" version | awk '{print $2}')
  [[ $got == "$version" ]] || fail "$bin version says '$got', want '$version'"
done
[[ $(command -v pgsafe-headless) == /usr/bin/pgsafe-headless ]] || fail "pgsafe-headless on PATH is $(command -v pgsafe-headless)"
say "/usr/bin/pgsafe version and pgsafe-headless version print $version"

desktop-file-validate /usr/share/applications/pgsafe.desktop || fail "desktop-file-validate: the installed pgsafe.desktop is not valid (above)"
appstreamcli validate --no-net /usr/share/metainfo/io.github.pgsafe.PgSafe.metainfo.xml >"$tmp/as.log" 2>&1 ||
  { cat "$tmp/as.log" >&2; fail "appstreamcli validate: the installed metainfo is not valid (above)"; }
grep -qF "<release version=\"$version\"" /usr/share/metainfo/io.github.pgsafe.PgSafe.metainfo.xml ||
  fail "the metainfo's release is not $version"
# man finds the pages (pgsafe-headless.1 is a .so link to pgsafe.1) and renders them. Rendered
# with -l: a lookup by name would leave formatted copies in /var/cache/man, which outlive a purge.
for pair in pgsafe:pgsafe pgsafe-headless:pgsafe pgsafe-backup:pgsafe-backup; do
  page=/usr/share/man/man1/${pair#*:}.1.gz
  [[ $(man -w "${pair%%:*}" 2>/dev/null) == "$page" ]] || fail "man -w ${pair%%:*} does not find $page"
done
man -P cat -l /usr/share/man/man1/pgsafe-headless.1.gz 2>/dev/null | grep -q "PgSafe keeps PostgreSQL databases safely backed up" ||
  fail "man -l pgsafe-headless.1.gz does not render pgsafe(1)"
man -P cat -l /usr/share/man/man1/pgsafe-backup.1.gz 2>/dev/null | grep -q "pgsafe backup" ||
  fail "man -l pgsafe-backup.1.gz does not render"
say "desktop entry and metainfo valid; man pgsafe, pgsafe-headless, pgsafe-backup render"

# The installed app shows its window (scripts/screenshot.sh waits for it to render) and its agent
# is the headless build beside it (agent.Program), checked while the window is up.
cat >"$tmp/agent-check.sh" <<'CHECK'
set -euo pipefail
lock=$PGSAFE_HOME/agent.lock
pid=
for _ in $(seq 1 150); do # the window asks for the agent as it starts; 30 s at most
  pid=$(cat "$lock" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && [[ -e /proc/$pid ]] && break
  pid=
  sleep 0.2
done
[[ -n $pid ]] || { echo "agent-check: no agent holds $lock" >&2; exit 1; }
exe=$(readlink "/proc/$pid/exe")
args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
echo "agent-check: the window's agent is pid $pid: $exe ($args)" >&2
[[ $exe == /usr/bin/pgsafe-headless ]] || { echo "agent-check: the agent runs $exe, not /usr/bin/pgsafe-headless" >&2; exit 1; }
[[ " $args" == *" agent"* ]] || { echo "agent-check: the agent's command line is '$args'" >&2; exit 1; }
CHECK
shot=build/dist/installed.png
mkdir -p "$(dirname "$shot")"
PGSAFE_BIN=/usr/bin/pgsafe PGSAFE_SHOT_CHECK=$tmp/agent-check.sh bash scripts/screenshot.sh "$shot" ||
  fail "the installed /usr/bin/pgsafe did not show its window with /usr/bin/pgsafe-headless as its agent (above)"
say "the installed app showed its window ($shot) and ran /usr/bin/pgsafe-headless as its agent"

# ---- purge --------------------------------------------------------------------------------------
dpkg -L pgsafe >"$tmp/listed"
$SUDO apt-get purge -y -qq pgsafe >/dev/null
installed && fail "after apt-get purge: $(dpkg-query -W -f='${Status}' pgsafe)"
left=0
while read -r p; do
  [[ -z $p || $p == /. ]] && continue
  if [[ -d $p && ! -L $p ]]; then
    # A folder may stay while another package owns it or something else lives in it.
    dpkg -S "$p" >/dev/null 2>&1 && continue
    [[ -n $(ls -A "$p") ]] && continue
  elif [[ ! -e $p && ! -L $p ]]; then
    continue
  fi
  echo "left behind: $p" >&2
  left=1
done <"$tmp/listed"
((left == 0)) || fail "apt-get purge left files of pgsafe behind (above)"
leftovers >"$tmp/after.paths"
diff -u "$tmp/before.paths" "$tmp/after.paths" >&2 || fail "apt-get purge left pgsafe paths in /etc or /var (above: +)"
say "apt-get purge removed all $(grep -c . "$tmp/listed") paths dpkg -L listed; nothing new in /etc or /var"
say "all Linux checks passed"
