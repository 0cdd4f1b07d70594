#!/usr/bin/env bash
# A reconnect storm (docs/BENCHMARKS.md, "Reconnect storm"): a fresh
# kiosk-server on loopback with N screens imported and connected through
# kiosk-loadtest (each behaving like a player), 15 s of steady state, then
# kill -9 of the server and an immediate restart on the same data dir.
# kiosk-loadtest times, from the first disconnect, the first screen back,
# every screen back and every screen acked the server's current version,
# all through the player's own reconnect backoff, and compares the new
# process's peak RSS with the steady RSS before the kill (goal ≤ 1.5×).
#
#   bash docs/storm-bench.sh [SCREENS=10000]
#
# Env: KIOSK_BENCH_PORT (18311), KIOSK_BENCH_OUT=DIR keeps the logs and
# report.json, LOADTEST_FLAGS adds kiosk-loadtest flags. Needs curl. Run
# from the repository root. Everything it starts stops on exit; every wait
# is bounded.
set -euo pipefail
N=${1:-10000}
. "$(dirname "$0")/bench-common.sh"

machine
start_server
"$W/bin/kiosk-loadtest" -server "$S" -tokens "$W/tokens.txt" -create "$N" 2>>"$W/loadtest.log"
echo "command: kiosk-loadtest -server $S -tokens tokens.txt -rate 1000 -storm -settle 15s -ready-file ready -server-pidfile server.pid ${LOADTEST_FLAGS:-}; kill -9 after 15 s steady; restart"
echo
# shellcheck disable=SC2086 # LOADTEST_FLAGS is a list of flags
"$W/bin/kiosk-loadtest" -server "$S" -tokens "$W/tokens.txt" -rate 1000 -storm -settle 15s -max-duration 15m \
  -ready-file "$W/ready" -server-pidfile "$W/server.pid" -json "$W/report.json" ${LOADTEST_FLAGS:-} 2>>"$W/loadtest.log" &
LP=$!
for _ in $(seq 6000); do # at most 10 min to connect and sync
  [ -e "$W/ready" ] && break
  kill -0 "$LP" 2>/dev/null || { echo "kiosk-loadtest ended before every screen synced; see its log:" >&2; tail -20 "$W/loadtest.log" >&2; exit 1; }
  sleep 0.1
done
[ -e "$W/ready" ] || { echo "screens not synced after 10 min" >&2; exit 1; }
sleep 15 # steady state, sampled by the tool
t0=$(date +%s%N)
kill -9 "$SP"
wait "$SP" 2>/dev/null || true
start_server
echo "kill -9 → new server answering /healthz: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo
wait "$LP"
LP=
echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
