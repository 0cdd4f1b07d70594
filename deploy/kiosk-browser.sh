#!/usr/bin/env bash
# Runs chromium full screen on the player's local kiosk page, and relaunches
# it whenever it exits or crashes: the screen must never stay on a desktop.
set -u

url="${KIOSK_URL:-http://127.0.0.1:8090/}"
browser="${KIOSK_BROWSER:-chromium}"
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
	echo "kiosk-browser: $browser exited with status $?; relaunching in 2 s" >&2
	sleep 2
done
