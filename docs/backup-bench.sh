#!/usr/bin/env bash
# Backup and restore of a fresh kiosk-server on loopback (docs/BENCHMARKS.md,
# "Backup and restore"): 200 media files of 1 MiB and 2,000 items, then
# whole-process timings of `kiosk-server backup` against the running server
# and of `kiosk-server restore`, and the latency of item writes while a
# backup runs compared with none running. Needs curl and GNU time.
# Run from the repository root: bash docs/backup-bench.sh
set -euo pipefail
W=$(mktemp -d /tmp/kiosk-backup-bench.XXXXXX)
go build -o $W/bin/ ./cmd/kiosk-server
B=$W/bin; D=$W/data; S=http://127.0.0.1:18191; A=$S/api/v1
KIOSK_ADMIN_TOKEN=bg-bench $B/kiosk-server -addr 127.0.0.1:18191 -data $D -review=false 2>/dev/null & SP=$!
trap 'kill $SP 2>/dev/null; rm -rf $W' EXIT
until curl -sf $S/healthz >/dev/null; do sleep 0.1; done
bg() { curl -sf -H 'Authorization: Bearer bg-bench' "$@"; }

echo "== seeding 200 media files of 1 MiB and 2,000 items"
for i in $(seq 200); do
  { printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR'; head -c 1048552 /dev/urandom; } > $W/m.png
  bg -F "file=@$W/m.png;type=image/png" $A/assets >/dev/null
done
for i in $(seq 2000); do
  printf '{"kind":"notice","title":"通知 %d","body":"明天 9:00 至 12:00 3 号楼停水，请提前储水。","duration_s":10}\n' $i
done | while read -r body; do bg -H 'Content-Type: application/json' -X POST $A/items -d "$body" >/dev/null; done
du -sh $D

writes() { # n item writes, one at a time; prints p50 / p99 / max in ms
  for i in $(seq $1); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'Authorization: Bearer bg-bench' -H 'Content-Type: application/json' \
      -X POST $A/items -d '{"kind":"notice","title":"bench","duration_s":5}'
  done | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms  p99 %.1f ms  max %.1f ms (%d writes)\n", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000, NR}'
}
echo "== item writes, no backup running"; writes 200

for run in 1 2 3; do
  echo "== run $run: kiosk-server backup (whole process) while 200 item writes run"
  writes 200 > $W/during & WP=$!
  KIOSK_ADMIN_TOKEN=bg-bench /usr/bin/time -f '   backup: %e s wall, %M KB max RSS' $B/kiosk-server backup -to $W/b$run.tar -server $S
  wait $WP; echo "   writes during it: $(cat $W/during)"
  ls -l $W/b$run.tar | awk '{printf "   archive %.1f MiB\n", $5/1048576}'
  /usr/bin/time -f '   restore: %e s wall, %M KB max RSS' $B/kiosk-server restore -from $W/b$run.tar -data $W/restored$run
  rm -rf $W/restored$run
done
