#!/usr/bin/env bash
# deploy/test-install-player.sh — tests deploy/install-player.sh in a
# throwaway root (--root): the dry run plans every action and touches
# nothing, a real run writes what it planned, a second run changes nothing,
# a changed setting changes only itself and keeps an operator's edits, and
# bad arguments exit 2 with a message. .ci/run runs it; needs only bash
# and coreutils (no systemd, no apt, no root unless chown needs it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=$here/install-player.sh
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
expect_line() { # expect_line FILE LINE
	grep -qxF -- "$2" "$1" || fail "$(basename "$1") has no line '$2'"
}
# snapshot DIR: every path with its type, mode, owner, size, time and hash.
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %u:%g %s %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}

root=$t/root
mkdir -p "$root/etc/lightdm" "$root/home/kiosk"
uid=$(id -u) gid=$(id -g)
if [ "$uid" = 0 ]; then uid=1000 gid=1000; fi # the browser never runs as root
printf 'root:x:0:0:root:/root:/bin/bash\nkiosk:x:%s:%s:Kiosk:/home/kiosk:/bin/bash\n' "$uid" "$gid" >"$root/etc/passwd"
chown "$uid:$gid" "$root/home/kiosk" 2>/dev/null || true
printf '#!/bin/sh\necho 9.9.9\n' >"$t/kiosk-player"
printf 'KIOSK_RELEASE_PUBLIC_KEY_TEST\n' >"$t/release.pub"
args=(--root "$root" --no-apt --binary "$t/kiosk-player" --user kiosk
	--server https://signage.example.org --district "幸福 街道" --rotate 90 --release-key "$t/release.pub")

# The files a run writes, under the root.
files=(
	/usr/local/bin/kiosk-player
	/usr/local/lib/kiosk/kiosk-player-launch.sh
	/usr/local/bin/kiosk-browser
	/etc/systemd/system/kiosk-player.service
	/etc/kiosk/release.pub
	/etc/kiosk/kiosk-player.env
	/etc/kiosk/kiosk-browser.env
	/home/kiosk/.config/autostart/kiosk-browser.desktop
	/etc/lightdm/lightdm.conf.d/50-kiosk.conf
)

# chown to another uid needs root; as a user, owners are our own.
if [ "$(id -u)" != 0 ]; then
	echo "test-install-player: not root; skipping (chown of the user's files needs root)" >&2
	exit 0
fi

echo "== dry run"
before=$(snapshot "$root")
"$script" "${args[@]}" --dry-run >"$t/dry.out" 2>&1 || fail "dry run exited $?"
cat "$t/dry.out"
[ "$before" = "$(snapshot "$root")" ] || fail "the dry run changed files under the root"
for f in "${files[@]}"; do
	grep -qE "^  planned +$f\$" "$t/dry.out" || fail "the dry run does not plan $f"
done
for want in "planned +enable kiosk-player.service" "planned +default target graphical.target" \
	"skipped +Debian packages \(--no-apt\)" "skipped +starting kiosk-player"; do
	grep -qE "^  $want" "$t/dry.out" || fail "the dry run does not say '$want'"
done
grep -qE "^  (changed|unchanged) " "$t/dry.out" && fail "the dry run claims to have done something"

echo "== first run"
"$script" "${args[@]}" >"$t/run1.out" 2>&1 || fail "first run exited $?"
cat "$t/run1.out"
for f in "${files[@]}"; do
	[ -f "$root$f" ] || fail "$f was not written"
	grep -qE "^  changed +$f\$" "$t/run1.out" || fail "the first run does not report $f changed"
done
cmp -s "$t/kiosk-player" "$root/usr/local/bin/kiosk-player" || fail "the binary was not copied"
[ "$(stat -c %a "$root/usr/local/bin/kiosk-player")" = 755 ] || fail "the binary is not mode 755"
env=$root/etc/kiosk/kiosk-player.env
expect_line "$env" "KIOSK_PLAYER_SERVER=https://signage.example.org"
expect_line "$env" 'KIOSK_PLAYER_DISTRICT="幸福 街道"'
expect_line "$env" "KIOSK_PLAYER_DEVTOOLS=http://127.0.0.1:9222"
expect_line "$env" "KIOSK_PLAYER_RELEASE_KEY_FILE=/etc/kiosk/release.pub"
[ "$(grep -c '^KIOSK_PLAYER_SERVER=' "$env")" = 1 ] || fail "KIOSK_PLAYER_SERVER is set more than once"
expect_line "$root/etc/kiosk/kiosk-browser.env" "KIOSK_ROTATE=90"
desktop=$root/home/kiosk/.config/autostart/kiosk-browser.desktop
expect_line "$desktop" "Exec=/usr/local/bin/kiosk-browser"
[ "$(stat -c %u:%g "$desktop")" = "$uid:$gid" ] || fail "the autostart entry is not the user's"
[ "$(stat -c %u "$root/home/kiosk/.config")" = "$uid" ] || fail "the .config folder is not the user's"
expect_line "$root/etc/lightdm/lightdm.conf.d/50-kiosk.conf" "autologin-user=kiosk"
expect_line "$root/etc/lightdm/lightdm.conf.d/50-kiosk.conf" "xserver-command=X -s 0 -dpms"
[ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/kiosk-player.service")" = /etc/systemd/system/kiosk-player.service ] ||
	fail "kiosk-player.service is not enabled"
grep -q "pairing code" "$t/run1.out" || fail "the run does not end with the pairing code note"

echo "== second run: nothing changes"
before=$(snapshot "$root")
"$script" "${args[@]}" >"$t/run2.out" 2>&1 || fail "second run exited $?"
cat "$t/run2.out"
[ "$before" = "$(snapshot "$root")" ] || fail "the second run changed files"
grep -E "^  (changed|planned) " "$t/run2.out" && fail "the second run reports changes"
grep -q " 0 changed," "$t/run2.out" || fail "the second run's summary is not '0 changed'"

echo "== a new district keeps the operator's own lines"
echo "KIOSK_PLAYER_SERVER_KEY_FILE=/etc/kiosk/server.key" >>"$env"
"$script" --root "$root" --no-apt --user kiosk --server https://signage.example.org --district 幸福街道 >"$t/run3.out" 2>&1 || fail "third run exited $?"
cat "$t/run3.out"
[ "$(grep -cE '^  changed ' "$t/run3.out")" = 1 ] || fail "changing the district changed more than the environment file"
expect_line "$env" "KIOSK_PLAYER_DISTRICT=幸福街道"
expect_line "$env" "KIOSK_PLAYER_SERVER_KEY_FILE=/etc/kiosk/server.key"
expect_line "$root/etc/kiosk/kiosk-browser.env" "KIOSK_ROTATE=90" # no --rotate: left as it was

echo "== bad arguments"
bad() { # bad WANT-IN-MESSAGE ARGS...
	local want=$1
	shift
	local code=0
	"$script" "$@" >"$t/bad.out" 2>&1 || code=$?
	[ "$code" = 2 ] || fail "install-player.sh $* exited $code, want 2"
	grep -qF -- "$want" "$t/bad.out" || fail "install-player.sh $*: message lacks '$want': $(cat "$t/bad.out")"
}
bad "--server URL is required" --root "$root" --dry-run
bad "want http://HOST" --root "$root" --dry-run --server signage.example.org
bad "want http://HOST" --root "$root" --dry-run --server 'https://x/$(reboot)'
bad "want 0, 90, 180 or 270" --root "$root" --dry-run --server http://s --rotate 45
bad "--district: at most" --root "$root" --dry-run --server http://s --district 'a"b'
bad "no such user" --root "$root" --dry-run --server http://s --user nobody-here
bad "unknown option" --root "$root" --dry-run --server http://s --bogus
bad "needs a value" --root "$root" --dry-run --server
bad "no such file" --root "$root" --dry-run --server http://s --binary "$t/missing"

if [ "$failures" -gt 0 ]; then
	echo "test-install-player: $failures failure(s)" >&2
	exit 1
fi
echo "test-install-player: ok"
