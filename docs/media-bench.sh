#!/usr/bin/env bash
# Media serving of a fresh kiosk-server against nginx (Debian package) on
# loopback, same bytes, same run (docs/BENCHMARKS.md, "Media"): three assets
# of 64 KiB, 500 KiB and 5 MiB of random bytes (behind a PNG signature, so
# the upload is accepted) uploaded through the API and named by a screen's
# manifest; nginx serves copies of the same files under the same URL path
# from a temporary prefix. Each case runs `wrk -t2 -c64 -d${DURATION}s`
# against Kiosk, then nginx, for ROUNDS rounds (interleaved, the order
# swapped every round), and the table shows the median requests/s of each
# and their ratio, the median of each round's own ratio (its two runs are
# next to each other in time, so a machine whose load drifts skews it
# less), and each server's CPU time per request (user + system of its
# processes over the run; the least skewed by other work on the box).
# Every request carries the screen's device token, as a player's asset
# fetch does (nginx ignores it).
#
# Cases: full GETs of each file; a Range request of 64 KiB in the middle of
# the 5 MiB file; a 304 (If-None-Match with each server's own ETag of the
# 500 KiB file).
#
# Needs wrk, nginx (any Debian package: nginx-light is enough) and curl:
#   apt-get install -y wrk nginx-light curl
# No root needed. Run from the repository root: bash docs/media-bench.sh
# Knobs (environment): ROUNDS (default 3), DURATION (seconds, default 10),
# NGINX_ACCESS_LOG=on|off (default on, as Debian's nginx.conf ships),
# KIOSK_PORT (default 18211), NGINX_PORT (default 18212).
set -euo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
NGINX_ACCESS_LOG=${NGINX_ACCESS_LOG:-on}
KP=${KIOSK_PORT:-18211}
NP=${NGINX_PORT:-18212}

missing=()
for tool in wrk nginx curl go; do
  if ! command -v $tool >/dev/null && ! [ -x /usr/sbin/$tool ]; then missing+=($tool); fi
done
if ((${#missing[@]})); then
  echo "media-bench: missing ${missing[*]}." >&2
  echo "  On Debian/Ubuntu: apt-get install -y wrk nginx-light curl   (go: https://go.dev/dl/)" >&2
  exit 2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

W=$(mktemp -d /tmp/kiosk-media-bench.XXXXXX)
SP=; NGP=
cleanup() {
  set +e # a server that already exited must not keep the rest from running
  for p in $SP $NGP; do kill $p 2>/dev/null; wait $p 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building kiosk-server"
go build -o $W/bin/ ./cmd/kiosk-server

echo "== starting kiosk-server on 127.0.0.1:$KP (fresh data dir)"
KIOSK_ADMIN_TOKEN=media-bench $W/bin/kiosk-server -addr 127.0.0.1:$KP -data $W/data 2>$W/kiosk.log & SP=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$KP/healthz >/dev/null && break; sleep 0.1; done
curl -sf http://127.0.0.1:$KP/healthz >/dev/null || { echo "kiosk-server did not start:" >&2; cat $W/kiosk.log >&2; exit 1; }
A=http://127.0.0.1:$KP/api/v1
adm() { curl -sf -H 'Authorization: Bearer media-bench' "$@"; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

echo "== uploading three assets and giving them to one screen"
declare -A SHA
items=()
for spec in 64k:65536 500k:512000 5m:5242880; do
  name=${spec%%:*} size=${spec#*:}
  { printf '\x89PNG\r\n\x1a\n'; head -c $((size - 8)) /dev/urandom; } > $W/$name.png
  SHA[$name]=$(adm -F "file=@$W/$name.png;type=image/png" $A/assets | field sha256)
  [ -n "${SHA[$name]}" ] || { echo "upload of $name failed" >&2; exit 1; }
  items+=("\"$(adm -H 'Content-Type: application/json' -X POST $A/items \
    -d "{\"kind\":\"psa\",\"title\":\"bench $name\",\"asset\":\"${SHA[$name]}\",\"duration_s\":10}" | field id)\"")
done
pl=$(adm -H 'Content-Type: application/json' -X POST $A/playlists \
  -d "{\"name\":\"media bench\",\"items\":[$(IFS=,; echo "${items[*]}")]}" | field id)
adm -H 'Content-Type: application/json' -X POST $A/schedules \
  -d "{\"playlist\":\"$pl\",\"target\":{\"all\":true}}" >/dev/null
TOKEN=$(adm -H 'Content-Type: application/json' -X POST $A/screens -d '{"name":"bench screen"}' | field token)
AUTH="Authorization: Bearer $TOKEN"
for i in $(seq 100); do
  curl -sf -H "$AUTH" $A/device/manifest 2>/dev/null | grep -q "${SHA[5m]}" && break; sleep 0.1
done

echo "== starting nginx on 127.0.0.1:$NP (temporary prefix, same files under the same paths)"
chmod 711 $W # nginx's workers run as nobody when the master is root
mkdir -p $W/nginx/www/api/v1/device/assets $W/nginx/tmp
for name in 64k 500k 5m; do cp $W/$name.png $W/nginx/www/api/v1/device/assets/${SHA[$name]}; done
chmod -R go+rX $W/nginx/www
# Debian's nginx.conf as shipped, less what does not apply (TLS, gzip of
# text, the sites-enabled includes): sendfile on, tcp_nopush on,
# worker_processes auto, keepalive_timeout 65.
cat > $W/nginx/nginx.conf <<EOF
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
daemon off;
events { worker_connections 768; }
http {
  sendfile on;
  tcp_nopush on;
  types_hash_max_size 2048;
  default_type image/png;
  access_log $( [ "$NGINX_ACCESS_LOG" = on ] && echo "$W/nginx/access.log" || echo off );
  client_body_temp_path $W/nginx/tmp/body;
  proxy_temp_path $W/nginx/tmp/proxy;
  fastcgi_temp_path $W/nginx/tmp/fastcgi;
  uwsgi_temp_path $W/nginx/tmp/uwsgi;
  scgi_temp_path $W/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NP;
    root $W/nginx/www;
  }
}
EOF
$NGINX -p $W/nginx -c $W/nginx/nginx.conf -e $W/nginx/error.log & NGP=$!
for i in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:$NP/api/v1/device/assets/${SHA[64k]} && break; sleep 0.1; done

echo "== checking both serve the same bytes"
for name in 64k 500k 5m; do
  for port in $KP $NP; do
    curl -sf -H "$AUTH" -o $W/got http://127.0.0.1:$port/api/v1/device/assets/${SHA[$name]}
    cmp -s $W/got $W/$name.png || { echo "port $port served different bytes for $name" >&2; exit 1; }
  done
done
etag() { curl -sf -D - -o /dev/null -H "$AUTH" http://127.0.0.1:$1/api/v1/device/assets/${SHA[500k]} | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
ETAG_K=$(etag $KP); ETAG_N=$(etag $NP)
RANGE="Range: bytes=2097152-2162687"
for port in $KP $NP; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -H "$RANGE" http://127.0.0.1:$port/api/v1/device/assets/${SHA[5m]})
  [ "$code" = 206 ] || { echo "port $port: Range answered $code, want 206" >&2; exit 1; }
done
for p in "$KP:$ETAG_K" "$NP:$ETAG_N"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -H "If-None-Match: ${p#*:}" http://127.0.0.1:${p%%:*}/api/v1/device/assets/${SHA[500k]})
  [ "$code" = 304 ] || { echo "port ${p%%:*}: If-None-Match answered $code, want 304" >&2; exit 1; }
done

# case name, asset, extra header for Kiosk, extra header for nginx
CASES=(
  "64 KiB|64k||"
  "500 KiB|500k||"
  "5 MiB|5m||"
  "Range 64 KiB of 5 MiB|5m|$RANGE|$RANGE"
  "304 (If-None-Match)|500k|If-None-Match: $ETAG_K|If-None-Match: $ETAG_N"
)

# cpu PID...: CPU time (user + system, clock ticks) the processes used.
cpu() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $t; }
TICK=$(getconf CLK_TCK)

# run PORT ASSET HEADER PID...: requests/s of one wrk run, and the
# server's CPU microseconds per request (its processes' user + system
# time over the run: less skewed than requests/s by other work on the
# machine); exits on any error answer or socket error, which would make
# the figure meaningless.
run() {
  # A long --timeout: wrk's 2 s would cut off 5 MiB answers on a busy box,
  # and requests/s is the measure here, not latency.
  local args=(-t2 -c64 -d${DURATION}s --timeout 30s --latency -H "$AUTH")
  [ -n "$3" ] && args+=(-H "$3")
  local c0; c0=$(cpu "${@:4}")
  wrk "${args[@]}" http://127.0.0.1:$1/api/v1/device/assets/${SHA[$2]} > $W/wrk.out
  local c1; c1=$(cpu "${@:4}")
  if grep -q 'Non-2xx\|Socket errors' $W/wrk.out; then
    echo "wrk against port $1 ($2, ${3:-plain GET}) saw errors:" >&2; cat $W/wrk.out >&2; exit 1
  fi
  awk -v c=$((c1 - c0)) -v tick=$TICK '/ requests in / {n = $1} /^Requests\/sec:/ {r = $2}
    END {printf "%s %.1f\n", r, c * 1e6 / tick / n}' $W/wrk.out
}

declare -A RK RN CK CN RR
NGPIDS="$NGP $(pgrep -P $NGP | tr '\n' ' ')" # the master and its workers
# Other work on the machine skews every figure: say how busy it was.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $ROUNDS rounds of wrk -t2 -c64 -d${DURATION}s per case and server, interleaved"
for round in $(seq $ROUNDS); do
  for i in "${!CASES[@]}"; do
    IFS='|' read -r label asset hk hn <<< "${CASES[$i]}"
    if ((round % 2)); then
      read -r k kc < <(run $KP $asset "$hk" $SP); read -r n nc < <(run $NP $asset "$hn" $NGPIDS)
    else
      read -r n nc < <(run $NP $asset "$hn" $NGPIDS); read -r k kc < <(run $KP $asset "$hk" $SP)
    fi
    RK[$i]+="$k "; RN[$i]+="$n "; CK[$i]+="$kc "; CN[$i]+="$nc "
    RR[$i]+="$(awk "BEGIN {print $k / $n}") "
    printf '   round %d  %-24s kiosk %10.0f   nginx %10.0f req/s   CPU/request kiosk %6.1f  nginx %6.1f us\n' \
      $round "$label" $k $n $kc $nc
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "Median of $ROUNDS runs, wrk -t2 -c64 -d${DURATION}s, $(nproc) cores, nginx access_log $NGINX_ACCESS_LOG"
echo "(ratio: of the two medians; per round: the median of each round's ratio, the two runs of a"
echo " round being next to each other in time; CPU: microseconds of server CPU per request, median)"
printf '%-24s %12s %12s %8s %10s %10s %10s\n' case "kiosk req/s" "nginx req/s" ratio "per round" "kiosk CPU" "nginx CPU"
for i in "${!CASES[@]}"; do
  IFS='|' read -r label _ <<< "${CASES[$i]}"
  k=$(echo ${RK[$i]} | median); n=$(echo ${RN[$i]} | median)
  printf '%-24s %12.0f %12.0f %7.2fx %9.2fx %7.1f us %7.1f us\n' "$label" $k $n $(awk "BEGIN {print $k / $n}") \
    $(echo ${RR[$i]} | median) $(echo ${CK[$i]} | median) $(echo ${CN[$i]} | median)
done
echo "load average (1, 5, 15 min) before the runs: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kiosk-server RSS after the run: $(awk '/VmRSS/ {print $2, $3}' /proc/$SP/status)"
