#!/usr/bin/env bash
# Publish → received / acked at N connected screens (docs/BENCHMARKS.md,
# "Publish at 10,000 screens"): a fresh kiosk-server on loopback, N screens
# imported in one request, then kiosk-loadtest connects them all, each
# behaving like a player, and makes P publishes 2 s apart (each edits the
# title of a notice every screen carries), timing every screen from its own
# clock. Prints the machine, then the tool's Markdown report.
#
#   bash docs/scale-bench.sh [SCREENS=10000] [PUBLISHES=30]
#
# Env: KIOSK_BENCH_PORT (18311), KIOSK_BENCH_OUT=DIR keeps the logs and
# report.json, LOADTEST_FLAGS adds kiosk-loadtest flags (e.g.
# "-asset-share 0"). Needs curl. Run from the repository root. Everything
# it starts stops on exit; the run is bounded (kiosk-loadtest -max-duration).
set -euo pipefail
N=${1:-10000}
P=${2:-30}
. "$(dirname "$0")/bench-common.sh"

machine
start_server
"$W/bin/kiosk-loadtest" -server "$S" -tokens "$W/tokens.txt" -create "$N" 2>>"$W/loadtest.log"
echo "command: kiosk-loadtest -server $S -tokens tokens.txt -rate 1000 -publishes $P -publish-every 2s -settle 10s -server-pid \$(kiosk-server) ${LOADTEST_FLAGS:-}"
echo
# shellcheck disable=SC2086 # LOADTEST_FLAGS is a list of flags
"$W/bin/kiosk-loadtest" -server "$S" -tokens "$W/tokens.txt" -rate 1000 -publishes "$P" -publish-every 2s \
  -settle 10s -max-duration 20m -server-pid "$SP" -json "$W/report.json" ${LOADTEST_FLAGS:-} 2>>"$W/loadtest.log" &
LP=$!
wait "$LP"
LP=
echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
