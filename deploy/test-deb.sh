#!/usr/bin/env bash
# deploy/test-deb.sh FILE.deb VERSION — installs the kiosk-player package on
# this machine (as root), checks its files, unit and -version, then removes
# and purges it and checks what stays and what goes. .ci/run runs it on a
# throwaway CI machine; it changes the system it runs on, so nowhere else.
set -euo pipefail

[ $# = 2 ] || {
	echo "usage: deploy/test-deb.sh FILE.deb VERSION" >&2
	exit 2
}
deb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
version=$2
[ "$(id -u)" = 0 ] || {
	echo "test-deb: must run as root (it installs a package)" >&2
	exit 2
}
if dpkg-query -W -f='${Status}' kiosk-player 2>/dev/null | grep -q 'ok installed'; then
	echo "test-deb: kiosk-player is installed here already; not touching it" >&2
	exit 1
fi

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
files=(
	/usr/bin/kiosk-player
	/usr/bin/kiosk-browser
	/usr/lib/kiosk/kiosk-player-launch.sh
	/usr/lib/systemd/system/kiosk-player.service
	/usr/lib/systemd/user/kiosk-browser.service
	/etc/kiosk/kiosk-player.env
)
wants=/etc/systemd/system/multi-user.target.wants/kiosk-player.service

echo "== install $deb"
# apt resolves Depends (chromium | chromium-browser, fonts-noto-cjk, curl);
# CI installed them already, so this needs no download.
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb"
for f in "${files[@]}"; do
	[ -e "$f" ] || fail "$f is missing after install"
done
for f in /usr/bin/kiosk-player /usr/bin/kiosk-browser /usr/lib/kiosk/kiosk-player-launch.sh; do
	[ -x "$f" ] || fail "$f is not executable"
done
first=$(kiosk-player -version | head -n 1)
[ "$first" = "$version" ] || fail "kiosk-player -version says '$first', want '$version'"
kiosk-player -version | sed -n 2p | grep -q '^commit [0-9a-f]\{7,\}\|^commit unknown' ||
	fail "kiosk-player -version's second line is not 'commit ...': $(kiosk-player -version | sed -n 2p)"
grep -q /usr/local /usr/lib/systemd/system/kiosk-player.service && fail "the packaged unit names /usr/local"
grep -qx 'Environment=KIOSK_PLAYER_SEED=/usr/bin/kiosk-player' /usr/lib/systemd/system/kiosk-player.service ||
	fail "the packaged unit does not seed from /usr/bin/kiosk-player"
grep -qx 'KIOSK_PLAYER_SERVER=' /etc/kiosk/kiosk-player.env || fail "the default env file sets a server"
grep -qx /etc/kiosk/kiosk-player.env /var/lib/dpkg/info/kiosk-player.conffiles || fail "the env file is not a conffile"
[ -L "$wants" ] || fail "kiosk-player.service is not enabled after install"
if command -v systemd-analyze >/dev/null; then
	# Offline: syntax, executables, directives. A running systemd is not needed.
	systemd-analyze verify /usr/lib/systemd/system/kiosk-player.service || fail "systemd-analyze verify kiosk-player.service"
fi
# The launcher seeds a version directory from the packaged binary.
inst=$(mktemp -d)
KIOSK_PLAYER_SEED=/usr/bin/kiosk-player /usr/lib/kiosk/kiosk-player-launch.sh "$inst" -version >"$inst.out" 2>&1 ||
	fail "the launcher could not run the packaged player: $(cat "$inst.out")"
[ -x "$inst/versions/$version/kiosk-player" ] || fail "the launcher did not seed versions/$version"
rm -rf "$inst" "$inst.out"

echo "== remove"
echo "# an operator's edit" >>/etc/kiosk/kiosk-player.env
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q kiosk-player
for f in /usr/bin/kiosk-player /usr/bin/kiosk-browser /usr/lib/kiosk/kiosk-player-launch.sh /usr/lib/systemd/system/kiosk-player.service; do
	[ ! -e "$f" ] || fail "$f is still there after remove"
done
[ -f /etc/kiosk/kiosk-player.env ] || fail "remove deleted the settings (only purge should)"
mkdir -p /var/lib/private/kiosk-player && touch /var/lib/private/kiosk-player/cache.db

echo "== purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kiosk-player
for f in /etc/kiosk/kiosk-player.env /var/lib/private/kiosk-player "$wants" /etc/systemd/system/kiosk-player.service; do
	[ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is still there after purge"
done
if dpkg-query -W -f='${Status}' kiosk-player 2>/dev/null | grep -q installed; then
	fail "dpkg still lists kiosk-player"
fi

if [ "$failures" -gt 0 ]; then
	echo "test-deb: $failures failure(s)" >&2
	exit 1
fi
echo "test-deb: ok"
