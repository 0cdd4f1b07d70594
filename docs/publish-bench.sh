#!/usr/bin/env bash
# Publish at 10,000 screens, whole processes started fresh (docs/BENCHMARKS.md,
# "Publish at 10,000 screens"). A fresh kiosk-server on a fresh data dir gets
# 10,000 screens by one CSV import, kiosk-loadtest holds one device websocket
# per screen (acking every push), then:
#   1. 30 playlist edits reaching every screen, one every 1.5 s: the server's
#      own recompute time (kiosk_publish_duration_seconds) and push → ack
#      (kiosk_hub_push_ack_seconds), read from /metrics;
#   2. 1,000 single POST /screens (4 at a time): how many recomputes they
#      caused and of which scope (full or partial), and their mean cost.
# Usage, from the repository root:  bash docs/publish-bench.sh [commit]
# With a commit, that commit's kiosk-server is measured (for a before/after
# comparison); the load tool is always the working tree's. Needs curl and
# python3.
set -euo pipefail
W=$(mktemp -d /tmp/kiosk-publish-bench.XXXXXX)
trap 'kill ${LP:-} ${SP:-} 2>/dev/null; rm -rf $W' EXIT
mkdir -p $W/bin $W/src
go build -o $W/bin/ ./cmd/kiosk-loadtest
if [ -n "${1:-}" ]; then
  git archive "$1" | tar -x -C $W/src
  (cd $W/src && go build -o $W/bin/ ./cmd/kiosk-server)
else
  go build -o $W/bin/ ./cmd/kiosk-server
fi
A=127.0.0.1:18202
api() { curl -sSf -H 'Authorization: Bearer bench' "$@"; }
json() { api -H 'Content-Type: application/json' "$@"; }
metric() { curl -sf http://$A/metrics | grep -E "^$1" || true; }
KIOSK_ADMIN_TOKEN=bench $W/bin/kiosk-server -addr $A -data $W/data 2>$W/server.log & SP=$!
until curl -sf http://$A/healthz >/dev/null; do sleep 0.1; done

{ echo "name,group,tags"; for i in $(seq -w 1 10000); do echo "bench $i,,bench"; done; } > $W/screens.csv
api -H 'Content-Type: text/csv' --data-binary @$W/screens.csv http://$A/api/v1/screens/import > $W/import.json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); l=d["screens"] if isinstance(d,dict) else d; print("\n".join(s["token"] for s in l))' $W/import.json > $W/tokens.txt
echo "screens imported: $(wc -l < $W/tokens.txt)"
$W/bin/kiosk-loadtest -url ws://$A/api/v1/device/ws -tokens $W/tokens.txt -hold 10m -rate 1000 -server-pid $SP 2>$W/load.log & LP=$!
for _ in $(seq 1 120); do
  n=$(metric kiosk_hub_connected_screens | awk '{print $2}')
  [ "${n%.*}" -ge 10000 ] 2>/dev/null && break
  sleep 1
done
echo "connected: $(metric kiosk_hub_connected_screens | awk '{print $2}')"

it1=$(json -d '{"kind":"notice","title":"一","duration_s":10}' http://$A/api/v1/items | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
it2=$(json -d '{"kind":"notice","title":"二","duration_s":10}' http://$A/api/v1/items | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
pl=$(json -d "{\"name\":\"bench\",\"items\":[\"$it1\"]}" http://$A/api/v1/playlists | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
json -d "{\"playlist\":\"$pl\",\"target\":{\"all\":true}}" http://$A/api/v1/schedules >/dev/null
sleep 3
metric 'kiosk_publish_duration_seconds_(sum|count)' > $W/m0
metric 'kiosk_hub_push_ack_seconds_(bucket|sum|count)' > $W/a0
for i in $(seq 1 30); do
  items="\"$it1\""; [ $((i % 2)) = 1 ] && items="\"$it1\",\"$it2\""
  json -X PUT -d "{\"name\":\"bench\",\"items\":[$items]}" -o /dev/null -w '%{time_total}\n' http://$A/api/v1/playlists/$pl >> $W/edit-times
  sleep 1.5
done
sleep 2
metric 'kiosk_publish_duration_seconds_(sum|count)' > $W/m1
metric 'kiosk_hub_push_ack_seconds_(bucket|sum|count)' > $W/a1
seq 1 1000 | xargs -P4 -I{} curl -sf -o /dev/null -H 'Authorization: Bearer bench' -H 'Content-Type: application/json' \
  -d '{"name":"single {}","tags":["bench"]}' http://$A/api/v1/screens
sleep 2
metric 'kiosk_publish_duration_seconds_(sum|count)' > $W/m2

python3 - $W <<'PY'
import sys, re, statistics
w = sys.argv[1]
def load(name):
    out = {}
    for line in open(f"{w}/{name}"):
        k, v = line.rsplit(" ", 1)
        out[k] = float(v)
    return out
def diff(a, b):
    a, b = load(a), load(b)
    return {k: b[k] - a.get(k, 0) for k in b}
def pub(d, label):
    for scope in sorted({re.sub(r"_(sum|count)", "", k) for k in d}):
        n, s = d.get(scope.replace("seconds", "seconds_count", 1), 0), d.get(scope.replace("seconds", "seconds_sum", 1), 0)
        if n:
            print(f"  {label}: {scope.split('seconds',1)[1] or '(all)'} recomputes {n:.0f}, mean {1000*s/n:.1f} ms")
edits = [float(x) for x in open(f"{w}/edit-times")]
print(f"30 playlist edits: API answer (write + fsync) median {1000*statistics.median(edits):.1f} ms, max {1000*max(edits):.1f} ms")
pub(diff("m0", "m1"), "edits")
a = diff("a0", "a1")
count = a.get("kiosk_hub_push_ack_seconds_count", 0)
if count:
    print(f"  push -> ack: {count:.0f} acks, mean {1000*a['kiosk_hub_push_ack_seconds_sum']/count:.0f} ms")
    for k, v in a.items():
        m = re.search(r'le="([^"]+)"', k)
        if m and m.group(1) in ("0.1", "0.25", "0.5", "1"):
            print(f"    within {m.group(1)} s: {100*v/count:.1f} %")
pub(diff("m1", "m2"), "1,000 single creates")
PY
echo "server RSS: $(grep VmRSS /proc/$SP/status)"
