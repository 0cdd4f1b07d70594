#!/usr/bin/env bash
# The admin API under an office's read load while N screens are connected
# and heartbeating (docs/BENCHMARKS.md, "Admin API at 10,000 screens"): a
# fresh kiosk-server on loopback, N screens imported in one request,
# kiosk-loadtest holding them all as players (hello, heartbeats, plays),
# then kiosk-adminload asking RATE requests a second for SECONDS (screens
# pages walking the cursor, searches, state filters, fleet, items,
# schedules, one screen's detail), open loop, latency from when each
# request was due. Prints the machine, then the load's table.
#
#   bash docs/admin-bench.sh [SCREENS=10000] [RATE=200] [SECONDS=60]
#
# Heartbeats come every 10 s here (the player's 30 s, three times as
# often), so a minute of load sees every screen beat several times.
# Env: KIOSK_BENCH_PORT (18311), KIOSK_BENCH_OUT=DIR keeps the logs.
# Needs curl. Run from the repository root. Everything stops on exit.
set -euo pipefail
N=${1:-10000}
RATE=${2:-200}
SECS=${3:-60}
. "$(dirname "$0")/bench-common.sh"
go build -o "$W/bin/" ./cmd/kiosk-adminload

machine
start_server
"$W/bin/kiosk-loadtest" -server "$S" -tokens "$W/tokens.txt" -create "$N" 2>>"$W/loadtest.log"
"$W/bin/kiosk-loadtest" -server "$S" -tokens "$W/tokens.txt" -rate 1000 -heartbeat 10s \
  -hold "$((SECS + 60))s" -max-duration 30m -ready-file "$W/ready" 2>>"$W/loadtest.log" >/dev/null &
LP=$!
for _ in $(seq 1800); do
  [ -f "$W/ready" ] && break
  kill -0 "$LP" 2>/dev/null || { echo "kiosk-loadtest exited; see its log:" >&2; tail -20 "$W/loadtest.log" >&2; exit 1; }
  sleep 0.1
done
[ -f "$W/ready" ] || { echo "screens not synced after 180 s" >&2; exit 1; }
sleep 10 # past the connect burst: heartbeats now arrive at their steady rate
# The office's pages sign in as people (a session or a personal API token);
# the break-glass token would have every read audited with an fsync, which
# is what it is for and not what an office's pages do. One admin account
# and a personal token of its own, made through the API.
pw="bench-$$-correct-horse"
curl -sf -o /dev/null -H "Authorization: Bearer $KIOSK_ADMIN_TOKEN" -H 'Content-Type: application/json' \
  -d "{\"username\":\"office\",\"password\":\"$pw\",\"role\":\"admin\"}" "$S/api/v1/users"
curl -sf -o /dev/null -c "$W/jar" -H 'Content-Type: application/json' \
  -d "{\"username\":\"office\",\"password\":\"$pw\"}" "$S/api/v1/session"
TOKEN=$(curl -sf -b "$W/jar" -H 'Content-Type: application/json' -d '{"name":"admin-bench","role":"admin"}' \
  "$S/api/v1/me/tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "could not make a personal API token" >&2; exit 1; }
echo "$N screens connected and heartbeating every 10 s (kiosk-loadtest -heartbeat 10s)"
echo "command: KIOSK_ADMIN_TOKEN=<a personal admin token> kiosk-adminload -url $S -rate $RATE -duration ${SECS}s -server-pid \$(kiosk-server)"
echo
KIOSK_ADMIN_TOKEN=$TOKEN "$W/bin/kiosk-adminload" -url "$S" -rate "$RATE" -duration "${SECS}s" -server-pid "$SP" || true
echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
