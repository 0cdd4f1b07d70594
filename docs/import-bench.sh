#!/usr/bin/env bash
# 10,000 screens registered by one CSV import against a fresh kiosk-server
# on loopback (docs/BENCHMARKS.md, "Bulk import"): curl's time for the whole
# request, three runs, each into a fresh data dir and a fresh process.
# Needs curl. Run from the repository root: bash docs/import-bench.sh
set -euo pipefail
W=$(mktemp -d /tmp/kiosk-import-bench.XXXXXX)
trap 'kill ${SP:-} 2>/dev/null; rm -rf $W' EXIT
go build -o $W/bin/ ./cmd/kiosk-server
{ echo "name,group,tags"; for i in $(seq -w 1 10000); do echo "小区屏幕 $i,,bulk;lobby"; done; } > $W/screens.csv
for run in 1 2 3; do
  KIOSK_ADMIN_TOKEN=bench $W/bin/kiosk-server -addr 127.0.0.1:18201 -data $W/data$run 2>/dev/null & SP=$!
  until curl -sf http://127.0.0.1:18201/healthz >/dev/null; do sleep 0.1; done
  curl -s -o $W/answer.json -w "run $run: HTTP %{http_code}, %{time_total} s for 10,000 screens\n" \
    -H 'Authorization: Bearer bench' -H 'Content-Type: text/csv' --data-binary @$W/screens.csv \
    http://127.0.0.1:18201/api/v1/screens/import
  grep -o '"token"' $W/answer.json | wc -l | sed 's/^/   tokens in the answer: /'
  kill $SP; wait $SP 2>/dev/null || true
done
