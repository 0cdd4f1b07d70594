#!/usr/bin/env bash
# Sign-in cost, the review round trip and the sign-in throttle, measured
# against fresh kiosk-server and kiosk-player processes on loopback
# (docs/BENCHMARKS.md, "People and review"). Needs curl. Run from the
# repository root: bash docs/review-bench.sh
set -euo pipefail
W=$(mktemp -d /tmp/kiosk-review-bench.XXXXXX)
go build -o $W/bin/ ./cmd/kiosk-server ./cmd/kiosk-player
B=$W/bin; D=$W/data; S=http://127.0.0.1:18181; A=$S/api/v1
mkdir -p $D
echo 'admin-password-for-bench' | $B/kiosk-server user add -data $D -role admin boss >/dev/null
KIOSK_ADMIN_TOKEN=bg-bench $B/kiosk-server -addr 127.0.0.1:18181 -data $D 2>/dev/null & SP=$!
trap 'kill $SP ${PP:-} 2>/dev/null; rm -rf $W' EXIT
until curl -sf $S/healthz >/dev/null; do sleep 0.1; done
bg() { curl -sf -H 'Authorization: Bearer bg-bench' -H 'Content-Type: application/json' "$@"; }
bg -X POST $A/users -d '{"username":"editor1","password":"editor-password-1","role":"editor"}' >/dev/null
bg -X POST $A/users -d '{"username":"reviewer1","password":"reviewer-password-1","role":"reviewer"}' >/dev/null
IT=$(bg -X POST $A/items -d '{"kind":"notice","title":"bench","duration_s":5}' | sed 's/.*"id":"\([^"]*\)".*/\1/')
PL=$(bg -X POST $A/playlists -d "{\"name\":\"p\",\"items\":[\"$IT\"]}" | sed 's/.*"id":"\([^"]*\)".*/\1/')
bg -X POST $A/schedules -d "{\"playlist\":\"$PL\",\"target\":{\"all\":true}}" >/dev/null
TOK=$(bg -X POST $A/screens -d '{"name":"s1"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
$B/kiosk-player -server $S -token $TOK -cache $W/cache.db -listen 127.0.0.1:18182 2>/dev/null & PP=$!
state() { curl -sf http://127.0.0.1:18182/state | grep -o '"applied_version": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'; }
until [ -n "$(state 2>/dev/null || true)" ]; do sleep 0.1; done

echo "== 50 sign-ins with the right password (whole request, curl time_total)"
for i in $(seq 50); do
  curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' $A/session \
    -d '{"username":"editor1","password":"editor-password-1"}'
done | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms  p90 %.1f ms  max %.1f ms\n", a[int(NR*0.5)]*1000, a[int(NR*0.9)]*1000, a[NR]*1000}'

echo "== review round trip: editor drafts and submits, reviewer approves, until the player applied it"
signin() { curl -sf -c $W/jar-$1 -H 'Content-Type: application/json' $A/session -d "{\"username\":\"$1\",\"password\":\"$2\"}" | sed 's/.*"csrf":"\([^"]*\)".*/\1/'; }
E=$(signin editor1 editor-password-1); R=$(signin reviewer1 reviewer-password-1)
sleep 3; echo "settled at $(state)"
for round in 1 2 3 4 5; do
  before=$(state)
  CS=$(curl -sf -b $W/jar-editor1 -H "X-CSRF-Token: $E" -H 'Sec-Fetch-Site: same-origin' -H 'Content-Type: application/json' \
    -X PUT $A/items/$IT -d "{\"kind\":\"notice\",\"title\":\"bench round $round\",\"duration_s\":5}" | sed 's/.*"changeset":"\([^"]*\)".*/\1/')
  curl -sf -b $W/jar-editor1 -H "X-CSRF-Token: $E" -H 'Sec-Fetch-Site: same-origin' -X POST $A/changesets/$CS/submit >/dev/null
  sleep 1
  [ "$(state)" = "$before" ] || { echo "draft reached the screen! before $before now $(state)"; curl -s http://127.0.0.1:18182/state; exit 1; }
  t0=$(date +%s%N)
  curl -sf -b $W/jar-reviewer1 -H "X-CSRF-Token: $R" -H 'Sec-Fetch-Site: same-origin' -X POST $A/changesets/$CS/approve >/dev/null
  t1=$(date +%s%N)
  while [ "$(state)" = "$before" ]; do sleep 0.005; done
  t2=$(date +%s%N)
  echo "round $round: approve answered in $(( (t1-t0)/1000000 )) ms, player applied $(( (t2-t0)/1000000 )) ms after the approve was sent"
done

echo "== 100 wrong passwords from one address, then the owner with and the attacker without the device cookie"
curl -s -o /dev/null -c $W/jar-owner -H 'Content-Type: application/json' $A/session -d '{"username":"reviewer1","password":"reviewer-password-1"}'
for i in $(seq 100); do
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' $A/session -d '{"username":"reviewer1","password":"wrong-password-xx"}'
done | sort | uniq -c | awk '{printf "  %s x %s\n", $1, $2}'
echo "  owner with device cookie: $(curl -s -o /dev/null -w '%{http_code}' -b $W/jar-owner -H 'Content-Type: application/json' $A/session -d '{"username":"reviewer1","password":"reviewer-password-1"}')"
echo "  right password, no device cookie: $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' $A/session -d '{"username":"reviewer1","password":"reviewer-password-1"}')"
