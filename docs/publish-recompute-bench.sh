#!/usr/bin/env bash
# The publisher's recompute after a content change at 10,000 screens, whole
# processes started fresh, with no players connected (docs/BENCHMARKS.md,
# "What a change costs the publisher"): a fresh kiosk-server on a fresh data
# dir, 10,000 screens by one CSV import, a playlist scheduled on every screen,
# then 30 edits of that playlist 0.3 s apart, each changing all 10,000
# manifests. Prints the mean of kiosk_publish_duration_seconds over the 30
# recomputes, read from /metrics. publish-bench.sh measures the same with
# 10,000 connected devices, where the hub's fan-out shares the cores.
# Usage, from the repository root:
#   bash docs/publish-recompute-bench.sh [commit] [runs]
# With a commit, that commit's kiosk-server is measured (a before/after
# comparison); runs (default 1) repeats the whole thing, each time fresh.
# Needs curl and python3.
set -euo pipefail
W=$(mktemp -d /tmp/kiosk-recompute-bench.XXXXXX)
trap 'kill ${SP:-} 2>/dev/null; rm -rf $W' EXIT
mkdir -p $W/bin $W/src
if [ -n "${1:-}" ]; then
  git archive "$1" | tar -x -C $W/src
  (cd $W/src && go build -o $W/bin/ ./cmd/kiosk-server)
else
  go build -o $W/bin/ ./cmd/kiosk-server
fi
A=127.0.0.1:18203
api() { curl -sSf -H 'Authorization: Bearer bench' "$@"; }
json() { api -H 'Content-Type: application/json' "$@"; }
id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
metric() { curl -sf http://$A/metrics | grep -E '^kiosk_publish_duration_seconds_(sum|count)\{scope="full"\}' | awk '{print $2}' | paste -sd' '; }
{ echo "name,group,tags"; for i in $(seq -w 1 10000); do echo "bench $i,,bench"; done; } > $W/screens.csv
for run in $(seq 1 "${2:-1}"); do
  rm -rf $W/data
  KIOSK_ADMIN_TOKEN=bench $W/bin/kiosk-server -addr $A -data $W/data 2>$W/server.log & SP=$!
  until curl -sf http://$A/healthz >/dev/null; do sleep 0.1; done
  api -H 'Content-Type: text/csv' --data-binary @$W/screens.csv http://$A/api/v1/screens/import >/dev/null
  it1=$(json -d '{"kind":"notice","title":"一","duration_s":10}' http://$A/api/v1/items | id)
  it2=$(json -d '{"kind":"notice","title":"二","duration_s":10}' http://$A/api/v1/items | id)
  pl=$(json -d "{\"name\":\"bench\",\"items\":[\"$it1\"]}" http://$A/api/v1/playlists | id)
  json -d "{\"playlist\":\"$pl\",\"target\":{\"all\":true}}" http://$A/api/v1/schedules >/dev/null
  sleep 1
  m0=$(metric)
  for i in $(seq 1 30); do
    items="\"$it1\""; [ $((i % 2)) = 1 ] && items="\"$it1\",\"$it2\""
    json -X PUT -d "{\"name\":\"bench\",\"items\":[$items]}" -o /dev/null http://$A/api/v1/playlists/$pl
    sleep 0.3
  done
  sleep 1
  m1=$(metric)
  python3 -c "
a = [float(x) for x in '$m0'.split()]; b = [float(x) for x in '$m1'.split()]
n = b[1] - a[1]
print(f'run $run: {n:.0f} recomputes after playlist edits, mean {1000 * (b[0] - a[0]) / n:.2f} ms')"
  kill $SP; wait $SP 2>/dev/null || true; SP=
done
