#!/usr/bin/env bash
# Runs chromium full screen on the player's local kiosk page, and relaunches
# it whenever it exits or crashes: the screen must never stay on a desktop.
#
# Settings come from the environment and from /etc/kiosk/kiosk-browser.env
# (KIOSK_BROWSER_ENV names another file), which deploy/install-player.sh
# writes: KIOSK_URL, KIOSK_BROWSER, KIOSK_ROTATE (0, 90, 180 or 270: turn
# the picture that far clockwise, for portrait panels), KIOSK_PROFILE,
# KIOSK_DEVTOOLS_PORT.
set -u

env_file="${KIOSK_BROWSER_ENV:-/etc/kiosk/kiosk-browser.env}"
if [ -r "$env_file" ]; then
	# shellcheck disable=SC1090 # root's file, KEY=VALUE lines
	. "$env_file"
fi

say() { echo "kiosk-browser: $*" >&2; }

url="${KIOSK_URL:-http://127.0.0.1:8090/}"
# Debian calls it chromium; Raspberry Pi OS and Ubuntu chromium-browser.
browser="${KIOSK_BROWSER:-}"
if [ -z "$browser" ]; then
	for b in chromium chromium-browser; do
		if command -v "$b" >/dev/null; then
			browser=$b
			break
		fi
	done
	browser="${browser:-chromium}"
fi
# A profile of its own, so a crash never leaves the "restore pages?" state
# of a person's everyday profile behind.
profile="${KIOSK_PROFILE:-${XDG_RUNTIME_DIR:-/tmp}/kiosk-browser}"
# DevTools on loopback only, for the player's "screenshot" remote command
# (kiosk-player -devtools http://127.0.0.1:9222). Set KIOSK_DEVTOOLS_PORT=
# (empty) to turn it off; screenshots then fail with a clear reason.
devtools_port="${KIOSK_DEVTOOLS_PORT-9222}"
devtools_flags=()
if [ -n "$devtools_port" ]; then
	devtools_flags=(--remote-debugging-address=127.0.0.1 "--remote-debugging-port=$devtools_port")
fi

# No screen saver, no blanking, no power saving: a sign is looked at, not
# used. On Wayland the compositor's idle settings decide (README: "Releases
# and installing a screen box"); chromium also inhibits idle while a video
# plays.
if [ -n "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && command -v xset >/dev/null; then
	xset s off s noblank -dpms || say "xset could not turn blanking off"
fi

# Portrait panels: turn every connected output. wlr-randr on wlroots
# compositors (labwc, wayfire, sway), xrandr on X11.
rotate="${KIOSK_ROTATE:-0}"
case $rotate in
0 | 90 | 180 | 270) ;;
*)
	say "KIOSK_ROTATE=$rotate is not 0, 90, 180 or 270; not rotating"
	rotate=0
	;;
esac
if [ "$rotate" != 0 ]; then
	if [ -n "${WAYLAND_DISPLAY:-}" ] && command -v wlr-randr >/dev/null; then
		# wlr-randr's 90 turns the picture clockwise, like xrandr's
		# "right" (Raspberry Pi OS's screen settings write it for "Right").
		for output in $(wlr-randr | sed -n 's/^\([^[:space:]][^[:space:]]*\) .*/\1/p'); do
			wlr-randr --output "$output" --transform "$rotate" || say "wlr-randr could not rotate $output"
		done
	elif [ -n "${DISPLAY:-}" ] && command -v xrandr >/dev/null; then
		case $rotate in 90) xr=right ;; 180) xr=inverted ;; 270) xr=left ;; esac
		for output in $(xrandr --query | sed -n 's/^\([^ ]*\) connected.*/\1/p'); do
			xrandr --output "$output" --rotate "$xr" || say "xrandr could not rotate $output"
		done
	else
		say "KIOSK_ROTATE=$rotate but neither wlr-randr (Wayland) nor xrandr (X11) is usable here"
	fi
fi

# Wait for the player's page: chromium showing a connection error at boot
# would sit there until someone reloads it.
for _ in $(seq 1 60); do
	command -v curl >/dev/null || break
	if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
		break
	fi
	sleep 1
done

while true; do
	# --kiosk: full screen, no way out by mouse.
	# --autoplay-policy: videos play without a click; nobody clicks a sign.
	# --check-for-update-interval: no "update chromium" nag on a public screen.
	# --noerrdialogs/--disable-infobars/--disable-session-crashed-bubble: no
	#   pop-ups in front of the content after a power cut.
	"$browser" \
		--kiosk \
		--noerrdialogs \
		--disable-infobars \
		--disable-session-crashed-bubble \
		--autoplay-policy=no-user-gesture-required \
		--check-for-update-interval=31536000 \
		--no-first-run \
		--disable-translate \
		--overscroll-history-navigation=0 \
		--user-data-dir="$profile" \
		"${devtools_flags[@]}" \
		"$url"
	say "$browser exited with status $?; relaunching in 2 s"
	sleep 2
done
