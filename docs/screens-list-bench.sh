#!/usr/bin/env bash
# GET /api/v1/screens at 10,000 screens (docs/BENCHMARKS.md, "Admin API:
# the screens list"): body size, curl's time (median of 20) and the
# server's CPU per request (utime+stime from /proc, over the 20), for the
# default page of 100, a page of 500, a name search, a state filter, and
# every screen by following next_cursor. Three runs, each a fresh process
# on the same data dir (10,000 screens imported once). Linux (reads
# /proc), needs curl and python3 (a free port). Run from the repository root:
#   bash docs/screens-list-bench.sh
set -euo pipefail
W=$(mktemp -d /tmp/kiosk-screens-bench.XXXXXX)
trap 'kill ${SP:-} 2>/dev/null; rm -rf $W' EXIT
go build -o $W/bin/ ./cmd/kiosk-server
{ echo "name,group,tags"; for i in $(seq -w 1 10000); do echo "幸福里 ${i:0:3} 号楼 $i 号屏,,lobby"; done; } > $W/screens.csv
# A free loopback port, so the requests never reach another server.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
AUTH='Authorization: Bearer bench'
start() {
  KIOSK_ADMIN_TOKEN=bench $W/bin/kiosk-server -addr 127.0.0.1:$PORT -data $W/data 2>$W/server.log & SP=$!
  until curl -sf $B/healthz >/dev/null; do
    kill -0 $SP 2>/dev/null || { cat $W/server.log; exit 1; }
    sleep 0.1
  done
}
stop() { kill $SP; wait $SP 2>/dev/null || true; }
cpu() { awk '{print $14+$15}' /proc/$SP/stat; } # utime+stime, clock ticks
TCK=$(getconf CLK_TCK)
get() { curl -sf -o $W/body -w '%{size_download} %{time_total}\n' -H "$AUTH" "$B/api/v1/screens$1"; }

start
curl -sf -o /dev/null -H "$AUTH" -H 'Content-Type: text/csv' --data-binary @$W/screens.csv $B/api/v1/screens/import
stop

for run in 1 2 3; do
  start
  get "" >/dev/null # first request: warm the process
  for q in "" "?limit=500" "?q=%E5%8F%B7%E6%A5%BC%200999" "?state=offline"; do
    c0=$(cpu)
    for i in $(seq 20); do get "$q"; done > $W/times
    c1=$(cpu)
    size=$(head -1 $W/times | cut -d' ' -f1)
    med=$(cut -d' ' -f2 $W/times | sort -n | sed -n 10p)
    echo "run $run: GET /screens$q: $size bytes, median $med s, server CPU $(( (c1 - c0) * 1000 / TCK / 20 )) ms a request"
  done
  # Every screen: the pages of 500 one after the other.
  c0=$(cpu); t0=$(date +%s.%N); bytes=0; pages=0; cur=""
  while :; do
    set -- $(get "?limit=500${cur:+&cursor=$cur}")
    bytes=$((bytes + $1)); pages=$((pages + 1))
    cur=$(grep -o '"next_cursor":"[^"]*"' $W/body | cut -d'"' -f4 || true)
    [ -n "$cur" ] || break
  done
  c1=$(cpu); t1=$(date +%s.%N)
  echo "run $run: every screen in $pages pages of 500: $bytes bytes, $(echo "$t1 - $t0" | bc) s, server CPU $(( (c1 - c0) * 1000 / TCK )) ms"
  stop
done
