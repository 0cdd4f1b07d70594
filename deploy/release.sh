#!/usr/bin/env bash
# deploy/release.sh [VERSION] — build a release into dist/<version>/.
#
# For each platform (linux/amd64, linux/arm64, linux/arm/v7 by default):
#   kiosk-server-<version>-<os>-<arch>     static (CGO_ENABLED=0), stripped
#   kiosk-player-<version>-<os>-<arch>     the same
#   kiosk-player_<debversion>_<debarch>.deb  the player as a Debian package
#   kiosk-player-<version>-<os>-<arch>.json  the signed build manifest, only
#                                            with KIOSK_RELEASE_KEY set
# and SHA256SUMS (sha256sum format) over all of them.
#
# VERSION defaults to `git describe --tags --always --dirty`, turned into
# what a player version may be (playlists.ValidBuildVersion: letters,
# digits and . _ + -, starting with a letter or digit, at most 64); a commit
# without any tag above it becomes 0.0.0-dev+g<commit>. A VERSION given
# on the command line must already be valid.
#
# Environment:
#   PLATFORMS           e.g. "linux/amd64" (default: all three)
#   DEB=0               skip the Debian packages (dpkg-deb not needed)
#   DIST                output root (default: dist)
#   SOURCE_DATE_EPOCH   build date as Unix seconds (reproducible builds;
#                       default: now). Same source, Go and epoch → same bytes.
#   COMMIT              the commit to stamp (default: git rev-parse HEAD)
#   KIOSK_RELEASE_KEY   release.key from kiosk-release keygen: also sign
#                       every player build (README: "Player updates")
#   DEB_MAINTAINER      the .deb's Maintainer field
#
# Exit status 0: everything built; 1: a build failed; 2: bad arguments.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

die() {
	echo "release: $*" >&2
	exit 1
}
usage() {
	echo "release: $*" >&2
	echo "usage: deploy/release.sh [VERSION]   (PLATFORMS, DEB, DIST, SOURCE_DATE_EPOCH: see the script's header)" >&2
	exit 2
}

# valid_version V: what the player accepts as a build version (and the
# launcher as a directory name: no "..").
valid_version() {
	[[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] && [[ $1 != *..* ]]
}

# sanitize_version V: git describe's output made valid.
sanitize_version() {
	local v=$1
	v=$(printf '%s' "$v" | tr -c 'A-Za-z0-9._+-' '-')
	while [[ $v == *..* ]]; do v=${v//../.}; done
	# A bare commit ("8e93fd4", "8e93fd4-dirty"): no tag to count from.
	# Numbers first would make the player read "8" as a major version.
	if ! [[ $v =~ ^v?[0-9]+\. ]]; then
		v="0.0.0-dev+g$v"
	fi
	v=${v:0:64}
	# Trailing separators after cutting look like a mistake.
	while [[ $v =~ [._+-]$ ]]; do v=${v%?}; done
	printf '%s' "$v"
}

# deb_version V: the same as a Debian version, which sorts like the
# release ("1.4.0-rc1" before "1.4.0", "1.4.0-3-gabc" after it).
deb_version() {
	local v=${1#v}
	# git describe: 1.4.0-3-gabcdef[-dirty] → 1.4.0+3.gabcdef[+dirty]
	v=$(printf '%s' "$v" | sed -E 's/-([0-9]+)-g([0-9a-f]+)/+\1.g\2/; s/-dirty$/+dirty/')
	v=${v//_/.}
	v=${v//-/\~}
	[[ $v =~ ^[0-9] ]] || v="0~$v"
	printf '%s' "$v"
}

[ $# -le 1 ] || usage "too many arguments"
if [ $# = 1 ]; then
	case $1 in -h | -help | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	esac
	version=$1
	valid_version "$version" || usage "VERSION $version: want 1-64 letters, digits and . _ + - (starting with a letter or digit, no ..)"
else
	described=$(git describe --tags --always --dirty 2>/dev/null) ||
		usage "cannot ask git for the version (not a git checkout, or git refuses it); give VERSION"
	version=$(sanitize_version "$described")
	valid_version "$version" || die "git describe gave $described, which does not make a valid version; give VERSION"
fi

commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
if [ -z "$commit" ]; then
	echo "release: cannot ask git for the commit; stamping 'unknown' (set COMMIT)" >&2
	commit=unknown
fi
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || usage "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH is not Unix seconds"
	epoch=$SOURCE_DATE_EPOCH
else
	epoch=$(date +%s)
fi
# dpkg-deb clamps file times to it: the packages are reproducible too.
export SOURCE_DATE_EPOCH=$epoch
build_date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

platforms=${PLATFORMS:-linux/amd64 linux/arm64 linux/arm/v7}
want_deb=${DEB:-1}
dist=${DIST:-dist}
maintainer=${DEB_MAINTAINER:-Kiosk release builder <kiosk@localhost>}
release_key=${KIOSK_RELEASE_KEY:-}

command -v go >/dev/null || die "go is not on PATH (nor in /usr/local/go/bin)"
if [ "$want_deb" = 1 ]; then
	command -v dpkg-deb >/dev/null || die "dpkg-deb is needed for the .deb packages (apt-get install dpkg), or set DEB=0"
fi
if [ -n "$release_key" ] && [ ! -r "$release_key" ]; then
	usage "KIOSK_RELEASE_KEY=$release_key cannot be read"
fi
for p in $platforms; do
	case $p in linux/amd64 | linux/arm64 | linux/arm/v7) ;; *) usage "platform $p: want linux/amd64, linux/arm64 or linux/arm/v7" ;; esac
done

out=$dist/$version
stage=$dist/.$version.tmp
rm -rf "$stage"
mkdir -p "$stage"
work=$(mktemp -d)
trap 'rm -rf "$work" "$stage"' EXIT

ldflags="-s -w"
for pkg in kiosk/player kiosk/server; do
	ldflags+=" -X $pkg.Version=$version -X $pkg.Commit=$commit -X $pkg.BuildDate=$build_date"
done
debver=$(deb_version "$version")

echo "release: version $version (deb $debver), commit $commit, built $build_date"
echo "release: platforms $platforms → $out/"

# build_deb BINARY DEBARCH: the player's Debian package into the stage.
build_deb() {
	local bin=$1 arch=$2
	local root=$work/deb-$arch
	rm -rf "$root"
	install -D -m 0755 "$bin" "$root/usr/bin/kiosk-player"
	install -D -m 0755 deploy/kiosk-player-launch.sh "$root/usr/lib/kiosk/kiosk-player-launch.sh"
	install -D -m 0755 deploy/kiosk-browser.sh "$root/usr/bin/kiosk-browser"

	# The units as written for a hand install (/usr/local/...), moved to
	# the packaged paths. Their install notes are replaced by the package's.
	mkdir -p "$root/usr/lib/systemd/system" "$root/usr/lib/systemd/user"
	{
		echo "# Kiosk screen player, from the kiosk-player package: settings in"
		echo "# /etc/kiosk/kiosk-player.env, then \"systemctl restart kiosk-player\"."
		echo "# The screen shows a pairing code until it is added in the admin page."
		sed -e '1,/^\[Unit\]/{/^\[Unit\]/!d}' \
			-e 's|/usr/local/lib/kiosk/|/usr/lib/kiosk/|g' \
			-e 's|/usr/local/bin/|/usr/bin/|g' \
			-e 's|^EnvironmentFile=/etc/kiosk/kiosk-player.env$|&\n# The launcher seeds the installed versions from the packaged binary.\nEnvironment=KIOSK_PLAYER_SEED=/usr/bin/kiosk-player|' \
			deploy/systemd/kiosk-player.service
	} >"$root/usr/lib/systemd/system/kiosk-player.service"
	{
		echo "# Full-screen browser on the player's page, from the kiosk-player package."
		echo "# A user unit for sessions that reach graphical-session.target (GNOME and"
		echo "# the like); deploy/install-player.sh uses an XDG autostart entry instead,"
		echo "# which every desktop runs. Enable one of the two, not both."
		sed -e '1,/^\[Unit\]/{/^\[Unit\]/!d}' -e 's|/usr/local/bin/|/usr/bin/|g' deploy/systemd/kiosk-browser.service
	} >"$root/usr/lib/systemd/user/kiosk-browser.service"
	if grep -n /usr/local "$root/usr/lib/systemd/system/kiosk-player.service" "$root/usr/lib/systemd/user/kiosk-browser.service"; then
		die "a packaged unit still names /usr/local (the rewrite in deploy/release.sh needs updating)"
	fi
	grep -qx 'Environment=KIOSK_PLAYER_SEED=/usr/bin/kiosk-player' "$root/usr/lib/systemd/system/kiosk-player.service" ||
		die "could not add KIOSK_PLAYER_SEED to the packaged kiosk-player.service"

	# The default settings: the example, without the example's server and
	# district (an unconfigured player stays down; see the unit).
	mkdir -p "$root/etc/kiosk"
	{
		echo "# Installed by the kiosk-player package (a conffile: your edits survive"
		echo "# upgrades). deploy/install-player.sh --server URL --district NAME sets"
		echo "# the first two. After editing: systemctl restart kiosk-player"
		sed -e '1{/^# \/etc\/kiosk/d}' \
			-e 's|^KIOSK_PLAYER_SERVER=.*|KIOSK_PLAYER_SERVER=|' \
			-e 's|^KIOSK_PLAYER_DISTRICT=.*|KIOSK_PLAYER_DISTRICT=|' \
			deploy/examples/kiosk-player.env
	} >"$root/etc/kiosk/kiosk-player.env"
	chmod 0644 "$root/etc/kiosk/kiosk-player.env"
	grep -qx 'KIOSK_PLAYER_SERVER=' "$root/etc/kiosk/kiosk-player.env" ||
		die "deploy/examples/kiosk-player.env has no KIOSK_PLAYER_SERVER line to empty"

	install -D -m 0644 /dev/stdin "$root/usr/share/doc/kiosk-player/README.Debian" <<EOF
kiosk-player for Debian
=======================

Kiosk screen player $version (commit $commit, built $build_date).

  /usr/bin/kiosk-player                      the player (seeds the installed versions)
  /usr/lib/kiosk/kiosk-player-launch.sh      runs it, installs and rolls back updates
  /usr/bin/kiosk-browser                     full-screen Chromium on the player's page
  /usr/lib/systemd/system/kiosk-player.service
  /usr/lib/systemd/user/kiosk-browser.service
  /etc/kiosk/kiosk-player.env                settings (KIOSK_PLAYER_SERVER, ...)

The package enables kiosk-player.service but does not start it. Set
KIOSK_PLAYER_SERVER in /etc/kiosk/kiosk-player.env and run
"systemctl restart kiosk-player", or let deploy/install-player.sh
(--deb this-file --server URL) set up the whole screen box: browser
autostart, no blanking, rotation.

The player runs from /var/lib/kiosk-player/bin/ (a copy of /usr/bin/kiosk-player
made on its first start); later versions arrive as signed updates from the
server. Upgrading this package does not replace the version a screen already
runs.

"apt remove" keeps the settings and the player's cache (content, pairing);
"apt purge" deletes both: the screen must be paired again.
EOF

	local size
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	mkdir -p "$root/DEBIAN"
	cat >"$root/DEBIAN/control" <<EOF
Package: kiosk-player
Version: $debver
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: chromium | chromium-browser, fonts-noto-cjk, curl
Recommends: x11-xserver-utils, wlr-randr
Section: misc
Priority: optional
Description: Kiosk digital-signage screen player
 Syncs signed content from a Kiosk server, keeps it in a local cache so the
 screen plays through network outages, and serves the full-screen page that
 kiosk-browser shows in Chromium. Version $version, commit $commit.
EOF
	echo /etc/kiosk/kiosk-player.env >"$root/DEBIAN/conffiles"
	install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$root/DEBIAN/"

	find "$root" -type d -exec chmod 0755 {} +
	find "$root" -exec touch -h -d "@$epoch" {} +
	dpkg-deb --root-owner-group -Zxz --build "$root" "$stage/kiosk-player_${debver}_$arch.deb" >/dev/null
}

for p in $platforms; do
	case $p in
	linux/amd64) goarch=amd64 goarm='' debarch=amd64 name=linux-amd64 ;;
	linux/arm64) goarch=arm64 goarm='' debarch=arm64 name=linux-arm64 ;;
	linux/arm/v7) goarch=arm goarm=7 debarch=armhf name=linux-armv7 ;;
	esac
	for cmd in kiosk-server kiosk-player; do
		bin=$stage/$cmd-$version-$name
		echo "release: $cmd for $p"
		env CGO_ENABLED=0 GOOS=linux GOARCH=$goarch ${goarm:+GOARM=$goarm} GOFLAGS= \
			go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin" "./cmd/$cmd" ||
			die "building $cmd for $p failed"
	done
	player=$stage/kiosk-player-$version-$name
	if [ -n "$release_key" ]; then
		go run ./cmd/kiosk-release sign -key "$release_key" -version "$version" -platform "$p" \
			-out "$player.json" "$player" || die "signing the player for $p failed"
	fi
	if [ "$want_deb" = 1 ]; then
		echo "release: kiosk-player_${debver}_$debarch.deb"
		build_deb "$player" "$debarch"
	fi
done

# The binaries this machine can run must say what they were stamped with.
for bin in "$stage"/kiosk-*-"$version"-linux-*; do
	case $bin in *.json) continue ;; esac
	if first=$("$bin" -version 2>/dev/null | head -n 1); then
		[ "$first" = "$version" ] || die "$bin -version says $first, want $version"
	fi
done

(cd "$stage" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort | xargs sha256sum --) >"$stage/SHA256SUMS"
(cd "$stage" && sha256sum --quiet -c SHA256SUMS) || die "SHA256SUMS does not check out"

rm -rf "$out"
mv "$stage" "$out"
echo "release: done"
ls -l "$out"
