#!/usr/bin/env bash
# deploy/install-player.sh — set up a Debian / Raspberry Pi OS box as a
# Kiosk screen: the player, Chromium and Noto CJK fonts, the systemd unit,
# the browser full screen on boot, no screen blanking, rotation for
# portrait panels. Run as root on the box:
#
#   install-player.sh --deb kiosk-player_1.4.0_arm64.deb --server https://signage.example.org --district 幸福街道
#   install-player.sh --binary kiosk-player-1.4.0-linux-armv7 --server URL --rotate 90
#
# Options:
#   --server URL        the Kiosk server (http:// or https://); required
#   --district NAME     shown with the clock when nothing is scheduled
#   --deb FILE          install the kiosk-player package (apt resolves its
#                       dependencies)
#   --binary FILE       or install a kiosk-player binary with the launcher,
#                       browser script and unit next to this script, under
#                       /usr/local (the README's hand install)
#                       (neither: configure the player already installed)
#   --user NAME         the desktop user the browser runs as (default:
#                       $SUDO_USER, else the user with uid 1000)
#   --rotate DEGREES    0, 90, 180 or 270: turn the picture that far
#                       clockwise (portrait panels); default: leave as is
#   --release-key FILE  the public release key player updates are signed with
#   --no-apt            install no Debian packages (they are there already)
#   --dry-run           print every action, do none
#   --root DIR          act on DIR as if it were / (tests, image builds);
#                       commands that change the running system (apt,
#                       raspi-config, systemctl start) are skipped
#
# Idempotent: every file is compared before it is written, every setting
# checked before it is changed, and a second run reports "unchanged" for
# everything. Exit status 0: done; 1: an action failed; 2: bad arguments.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

server='' district='' deb='' binary='' user='' rotate='' release_key=''
no_apt=0 dry_run=0 root=''
has_district=0

usage() {
	echo "install-player: $*" >&2
	echo "usage: install-player.sh --server URL [--district NAME] [--deb FILE | --binary FILE] [--user NAME] [--rotate 0|90|180|270] [--release-key FILE] [--no-apt] [--dry-run] [--root DIR]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	--dry-run) dry_run=1; shift; continue ;;
	--no-apt) no_apt=1; shift; continue ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	--server | --district | --deb | --binary | --user | --rotate | --release-key | --root) ;;
	*) usage "unknown option $opt" ;;
	esac
	[ $# -ge 2 ] || usage "$opt needs a value"
	val=$2
	shift 2
	case $opt in
	--server) server=$val ;;
	--district) district=$val has_district=1 ;;
	--deb) deb=$val ;;
	--binary) binary=$val ;;
	--user) user=$val ;;
	--rotate) rotate=$val ;;
	--release-key) release_key=$val ;;
	--root) root=$val ;;
	esac
done

# Values end up in systemd environment files and a shell-sourced file:
# nothing that quotes, escapes or expands.
plain_value() {
	[[ $1 != *[\"\'\`\$\\]* ]] && ! [[ $1 =~ [[:cntrl:]] ]]
}

[ -n "$server" ] || usage "--server URL is required"
[[ $server =~ ^https?://[^[:space:]/]+ ]] && plain_value "$server" ||
	usage "--server $server: want http://HOST[:PORT] or https://HOST[:PORT]"
if [ "$has_district" = 1 ]; then
	plain_value "$district" && [ ${#district} -le 100 ] ||
		usage "--district: at most 100 characters, without quotes, \\, \$, \` or control characters"
fi
case $rotate in '' | 0 | 90 | 180 | 270) ;; *) usage "--rotate $rotate: want 0, 90, 180 or 270" ;; esac
[ -z "$deb" ] || [ -z "$binary" ] || usage "give --deb or --binary, not both"
[ -z "$deb" ] || [ -f "$deb" ] || usage "--deb $deb: no such file"
[ -z "$binary" ] || [ -f "$binary" ] || usage "--binary $binary: no such file"
[ -z "$release_key" ] || [ -r "$release_key" ] || usage "--release-key $release_key: cannot read it"
if [ -n "$root" ]; then
	[ -d "$root" ] || usage "--root $root: no such directory"
	root=$(cd "$root" && pwd)
	[ "$root" != / ] || root=
	[ -z "$deb" ] || usage "--root works with --binary (dpkg installs into / only)"
fi
if [ "$dry_run" = 0 ] && [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
	usage "run it as root (sudo), or with --dry-run to see what it would do"
fi
if [ -n "$binary" ]; then
	for f in kiosk-player-launch.sh kiosk-browser.sh systemd/kiosk-player.service examples/kiosk-player.env; do
		[ -f "$here/$f" ] || usage "--binary needs $here/$f (run the script from the repository's deploy/ folder)"
	done
fi

# A real run on the live system (not --root, not --dry-run) may run
# commands that change it; systemd is only asked when it runs.
live=0
[ -n "$root" ] || live=1
systemd_running=0
[ "$live" = 1 ] && [ -d /run/systemd/system ] && systemd_running=1

changed=0 unchanged=0 skipped=0
report() { # report STATE WHAT
	case $1 in
	changed) changed=$((changed + 1)) ;;
	unchanged) unchanged=$((unchanged + 1)) ;;
	skipped) skipped=$((skipped + 1)) ;;
	esac
	if [ "$dry_run" = 1 ] && [ "$1" = changed ]; then
		printf '  %-10s %s\n' "planned" "$2"
	else
		printf '  %-10s %s\n' "$1" "$2"
	fi
}
fail() {
	echo "install-player: $*" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# put_file SRC PATH MODE UID:GID — PATH (under --root) gets SRC's bytes,
# mode and owner, unless it has them already.
put_file() {
	local src=$1 path=$2 mode=$3 owner=$4
	local dst=$root$path
	if [ -f "$dst" ] && cmp -s "$src" "$dst" &&
		[ "$(stat -c '%a %u:%g' "$dst")" = "$mode $owner" ]; then
		report unchanged "$path"
		return
	fi
	report changed "$path"
	[ "$dry_run" = 0 ] || return 0
	mkdir -p "$(dirname "$dst")"
	cp "$src" "$dst.kiosk-tmp"
	chmod "$mode" "$dst.kiosk-tmp"
	chown "$owner" "$dst.kiosk-tmp"
	mv -f "$dst.kiosk-tmp" "$dst"
}

# set_keys FILE KEY=VALUE...: FILE's text with each KEY set: the first
# "KEY=" or "#KEY=" line replaced, later ones dropped, else appended.
# Everything else in the file (comments, an operator's own settings) stays.
set_keys() {
	local file=$1
	shift
	awk '
		BEGIN {
			for (i = 1; i < ARGC; i++) {
				k = substr(ARGV[i], 1, index(ARGV[i], "=") - 1)
				want[k] = ARGV[i]; order[++n] = k
			}
			ARGC = 1
		}
		{
			line = $0; key = line
			sub(/^#[[:space:]]*/, "", key)
			if (match(key, /^[A-Z_]+=/)) {
				key = substr(key, 1, RLENGTH - 1)
				if (key in want) {
					if (!(key in done)) { print want[key]; done[key] = 1 }
					else if (line !~ /^#/) { next }
					else { print line }
					next
				}
			}
			print line
		}
		END { for (i = 1; i <= n; i++) if (!(order[i] in done)) print want[order[i]] }
	' "$@" <"$file"
}

env_value() { # quoted when it holds spaces (systemd strips the quotes)
	if [[ $1 =~ [[:space:]] ]]; then printf '"%s"' "$1"; else printf '%s' "$1"; fi
}

# ---- the desktop user --------------------------------------------------
passwd_entry() { # NAME or uid:N
	if [ -n "$root" ] || ! command -v getent >/dev/null; then
		[ -f "$root/etc/passwd" ] || return 1
		case $1 in
		uid:*) awk -F: -v u="${1#uid:}" '$3 == u { print; exit }' "$root/etc/passwd" ;;
		*) awk -F: -v n="$1" '$1 == n { print; exit }' "$root/etc/passwd" ;;
		esac
	else
		getent passwd "${1#uid:}" | head -n 1
	fi
}
if [ -z "$user" ] && [ -z "$root" ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
	user=$SUDO_USER
fi
if [ -z "$user" ]; then
	entry=$(passwd_entry uid:1000 || true)
	[ -n "$entry" ] || usage "no --user given and no user with uid 1000: name the desktop user the screen logs in as"
else
	entry=$(passwd_entry "$user" || true)
	[ -n "$entry" ] || usage "--user $user: no such user"
fi
IFS=: read -r user _ uid gid _ home _ <<<"$entry"
[ "$uid" != 0 ] || usage "the browser must not run as root; give --user NAME"
[ -n "$home" ] && [ -d "$root$home" ] || usage "user $user has no home directory ($home)"

echo "install-player: server $server, desktop user $user${root:+, root $root}$([ "$dry_run" = 1 ] && echo ', dry run')"

# ---- packages ------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
apt_install() {
	report changed "apt-get install $*"
	[ "$dry_run" = 0 ] || return 0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold "$@" ||
		fail "apt-get install $* failed (try apt-get update first)"
}

if [ -n "$deb" ]; then
	want=$(dpkg-deb -f "$deb" Version) || fail "$deb is not a Debian package"
	have=$(dpkg-query -W -f='${Version}' kiosk-player 2>/dev/null || true)
	if installed kiosk-player && [ "$have" = "$want" ]; then
		report unchanged "package kiosk-player $want"
	elif [ "$live" = 1 ]; then
		apt_install "$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
	fi
fi

# Chromium, CJK fonts, curl (the browser script waits for the page with
# it), and the tools that rotate and unblank (xrandr/xset, wlr-randr).
browser_pkg=chromium
if ! apt-cache show chromium >/dev/null 2>&1 && apt-cache show chromium-browser >/dev/null 2>&1; then
	browser_pkg=chromium-browser # Raspberry Pi OS before 2024, Ubuntu
fi
missing=()
for p in "$browser_pkg" fonts-noto-cjk curl x11-xserver-utils wlr-randr; do
	if [ "$p" = "$browser_pkg" ] && { installed chromium || installed chromium-browser; }; then
		continue
	fi
	installed "$p" || missing+=("$p")
done
if [ "$no_apt" = 1 ]; then
	report skipped "Debian packages (--no-apt)${missing[*]:+; not installed: ${missing[*]}}"
elif [ "$live" = 0 ]; then
	report skipped "Debian packages (--root)"
elif [ ${#missing[@]} = 0 ]; then
	report unchanged "packages $browser_pkg fonts-noto-cjk curl x11-xserver-utils wlr-randr"
else
	apt_install --no-install-recommends "${missing[@]}"
fi

# ---- the player's files ----------------------------------------------------
if [ -n "$binary" ]; then
	bin_dir=/usr/local/bin unit=/etc/systemd/system/kiosk-player.service
	put_file "$binary" /usr/local/bin/kiosk-player 755 0:0
	put_file "$here/kiosk-player-launch.sh" /usr/local/lib/kiosk/kiosk-player-launch.sh 755 0:0
	put_file "$here/kiosk-browser.sh" /usr/local/bin/kiosk-browser 755 0:0
	put_file "$here/systemd/kiosk-player.service" "$unit" 644 0:0
elif [ -e "$root/usr/bin/kiosk-player" ] || [ -n "$deb" ]; then
	bin_dir=/usr/bin unit=/usr/lib/systemd/system/kiosk-player.service
elif [ -e "$root/usr/local/bin/kiosk-player" ]; then
	bin_dir=/usr/local/bin unit=/etc/systemd/system/kiosk-player.service
else
	usage "no player installed here: give --deb FILE or --binary FILE"
fi

# ---- settings --------------------------------------------------------------
env_file=/etc/kiosk/kiosk-player.env
if [ -f "$root$env_file" ]; then
	cp "$root$env_file" "$tmp/env.old"
elif [ -n "$binary" ]; then
	cp "$here/examples/kiosk-player.env" "$tmp/env.old"
else
	: >"$tmp/env.old" # --dry-run before the package put it there
fi
keys=("KIOSK_PLAYER_SERVER=$server" "KIOSK_PLAYER_DEVTOOLS=http://127.0.0.1:9222")
if [ "$has_district" = 1 ]; then
	keys+=("KIOSK_PLAYER_DISTRICT=$(env_value "$district")")
elif [ -n "$binary" ] && [ ! -f "$root$env_file" ]; then
	keys+=("KIOSK_PLAYER_DISTRICT=") # not the example's
fi
if [ -n "$release_key" ]; then
	put_file "$release_key" /etc/kiosk/release.pub 644 0:0
	keys+=("KIOSK_PLAYER_RELEASE_KEY_FILE=/etc/kiosk/release.pub")
fi
set_keys "$tmp/env.old" "${keys[@]}" >"$tmp/env.new"
env_before=$( [ -f "$root$env_file" ] && sha256sum <"$root$env_file" || true)
put_file "$tmp/env.new" "$env_file" 644 0:0
env_changed=0
[ "$env_before" = "$(sha256sum <"$tmp/env.new")" ] || env_changed=1

browser_env=/etc/kiosk/kiosk-browser.env
if [ -f "$root$browser_env" ]; then
	cp "$root$browser_env" "$tmp/benv.old"
else
	cat >"$tmp/benv.old" <<'EOF'
# /etc/kiosk/kiosk-browser.env, read by kiosk-browser when the desktop
# session starts (deploy/install-player.sh writes it).
#
# Turn the picture this far clockwise: 0, 90, 180 or 270 (portrait panels).
KIOSK_ROTATE=0
#
# The player's page.
KIOSK_URL=http://127.0.0.1:8090/
EOF
fi
if [ -n "$rotate" ]; then
	set_keys "$tmp/benv.old" "KIOSK_ROTATE=$rotate" >"$tmp/benv.new"
else
	cp "$tmp/benv.old" "$tmp/benv.new"
fi
put_file "$tmp/benv.new" "$browser_env" 644 0:0

# ---- the browser in the desktop session --------------------------------
# An XDG autostart entry: LXDE (Raspberry Pi OS with X11), labwc and
# wayfire on Raspberry Pi OS, GNOME, KDE and XFCE all run it at login, with
# the session's DISPLAY / WAYLAND_DISPLAY. kiosk-browser relaunches
# Chromium whenever it exits.
cat >"$tmp/desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Kiosk browser
Comment=Full-screen Chromium on the Kiosk player's page (deploy/install-player.sh)
Exec=$bin_dir/kiosk-browser
X-GNOME-Autostart-enabled=true
NoDisplay=true
EOF
new_dirs=()
for d in "$home/.config" "$home/.config/autostart"; do
	[ -d "$root$d" ] || new_dirs+=("$root$d")
done
put_file "$tmp/desktop" "$home/.config/autostart/kiosk-browser.desktop" 644 "$uid:$gid"
if [ "$dry_run" = 0 ] && [ ${#new_dirs[@]} -gt 0 ]; then
	chown "$uid:$gid" "${new_dirs[@]}" # put_file made them, as root
fi

# ---- automatic login, no blanking ---------------------------------------
session_changed=0
if [ "$live" = 1 ] && command -v raspi-config >/dev/null; then
	# Raspberry Pi OS: its own tool knows X11, wayfire and labwc.
	if [ "$(systemctl get-default 2>/dev/null)" = graphical.target ] &&
		grep -qs "^autologin-user=$user\$" /etc/lightdm/lightdm.conf; then
		report unchanged "desktop login for $user (raspi-config)"
	else
		report changed "raspi-config nonint do_boot_behaviour B4 (desktop, automatic login)"
		session_changed=1
		[ "$dry_run" = 1 ] || raspi-config nonint do_boot_behaviour B4 || fail "raspi-config do_boot_behaviour failed"
	fi
	if [ "$(raspi-config nonint get_blanking 2>/dev/null)" = 1 ]; then
		report unchanged "screen blanking off (raspi-config)"
	else
		report changed "raspi-config nonint do_blanking 1 (screen blanking off)"
		session_changed=1
		[ "$dry_run" = 1 ] || raspi-config nonint do_blanking 1 || fail "raspi-config do_blanking failed"
	fi
elif [ -d "$root/etc/lightdm" ]; then
	# LightDM: log the user in, and start X without screen saver or DPMS
	# (kiosk-browser's xset repeats that inside the session).
	cat >"$tmp/lightdm" <<EOF
# Written by deploy/install-player.sh: the kiosk screen logs in by itself
# and X never blanks.
[Seat:*]
autologin-user=$user
autologin-user-timeout=0
xserver-command=X -s 0 -dpms
EOF
	before=$changed
	put_file "$tmp/lightdm" /etc/lightdm/lightdm.conf.d/50-kiosk.conf 644 0:0
	[ "$changed" = "$before" ] || session_changed=1
	# graphical.target by default (systemctl set-default, done by hand so
	# it works under --root too).
	link=$root/etc/systemd/system/default.target
	if [ "$(readlink "$link" 2>/dev/null)" = /usr/lib/systemd/system/graphical.target ] ||
		[ "$(readlink "$link" 2>/dev/null)" = /lib/systemd/system/graphical.target ]; then
		report unchanged "default target graphical.target"
	else
		report changed "default target graphical.target"
		session_changed=1
		if [ "$dry_run" = 0 ]; then
			mkdir -p "$root/etc/systemd/system"
			ln -sfn /usr/lib/systemd/system/graphical.target "$link"
		fi
	fi
else
	report skipped "automatic desktop login: no LightDM or raspi-config here; set up automatic login for $user in your display manager"
fi

# ---- the player's unit -------------------------------------------------
wants=$root/etc/systemd/system/multi-user.target.wants/kiosk-player.service
if [ -L "$wants" ]; then
	report unchanged "kiosk-player.service enabled"
else
	report changed "enable kiosk-player.service"
	if [ "$dry_run" = 0 ]; then
		mkdir -p "$(dirname "$wants")"
		ln -sfn "$unit" "$wants"
	fi
fi
if [ "$systemd_running" = 1 ]; then
	if [ "$dry_run" = 1 ]; then
		report changed "systemctl daemon-reload; restart kiosk-player if its settings changed or it is not running"
	else
		systemctl daemon-reload
		if [ "$env_changed" = 1 ] || ! systemctl is-active --quiet kiosk-player; then
			report changed "systemctl restart kiosk-player"
			systemctl restart kiosk-player || fail "kiosk-player did not start: journalctl -u kiosk-player"
		else
			report unchanged "kiosk-player running"
		fi
	fi
else
	report skipped "starting kiosk-player (systemd is not running here; it starts at boot)"
fi

echo "install-player: $changed $([ "$dry_run" = 1 ] && echo 'to change' || echo changed), $unchanged unchanged, $skipped skipped"
[ "$dry_run" = 0 ] || exit 0

# ---- the pairing code --------------------------------------------------
code=
if [ "$systemd_running" = 1 ] && command -v curl >/dev/null; then
	for _ in $(seq 1 20); do
		state=$(curl -fsS --max-time 2 http://127.0.0.1:8090/state 2>/dev/null || true)
		code=$(printf '%s' "$state" | sed -n 's/.*"pairing_code":"\([^"]*\)".*/\1/p')
		[ -z "$code" ] || break
		case $state in *'"screen_id":"'[!\"]*) break ;; esac # paired already
		sleep 1
	done
fi
if [ -n "$code" ]; then
	echo "The screen shows the pairing code $code. In the admin page open 设备总览 → 添加屏幕 and enter it."
else
	echo "The screen shows a pairing code once the player runs (now, or after a reboot);"
	echo "in the admin page open 设备总览 → 添加屏幕 and enter it. A screen paired before keeps its pairing."
fi
if [ "$session_changed" = 1 ]; then
	echo "Reboot to start the desktop session with the full-screen browser: reboot"
fi
