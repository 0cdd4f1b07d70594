# shellcheck shell=bash
# Shared by docs/scale-bench.sh and docs/storm-bench.sh (sourced, not run):
# a work dir, the binaries, a fresh kiosk-server on loopback, screens
# imported, and a header saying what the machine was doing.

W=$(mktemp -d /tmp/kiosk-bench.XXXXXX)
SP=; LP=
cleanup() {
  [ -n "$LP" ] && kill "$LP" 2>/dev/null
  [ -n "$SP" ] && kill -9 "$SP" 2>/dev/null
  wait 2>/dev/null
  if [ -n "${KIOSK_BENCH_OUT:-}" ]; then mkdir -p "$KIOSK_BENCH_OUT" && cp "$W"/*.log "$W"/*.json "$KIOSK_BENCH_OUT"/ 2>/dev/null; fi
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=${KIOSK_BENCH_PORT:-18311}
S=http://127.0.0.1:$PORT
export KIOSK_ADMIN_TOKEN=bench-$$

go build -o "$W/bin/" ./cmd/kiosk-server ./cmd/kiosk-loadtest

# start_server starts kiosk-server on the work dir's data and waits (at
# most 60 s) until it answers; its PID goes to $SP and $W/server.pid.
start_server() {
  "$W/bin/kiosk-server" -addr "127.0.0.1:$PORT" -data "$W/data" 2>>"$W/server.log" &
  SP=$!
  echo "$SP" > "$W/server.pid"
  for _ in $(seq 600); do
    curl -sf "$S/healthz" >/dev/null && return 0
    kill -0 "$SP" 2>/dev/null || { echo "kiosk-server exited; see its log:" >&2; tail -20 "$W/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "kiosk-server not answering after 60 s" >&2; exit 1
}

# machine prints what the figures were measured on and with what running.
machine() {
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)"
  echo "build: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "busiest processes over one second before the run (%CPU, 100 = one core):"
  top -bn2 -d1 -o %CPU -w 100 | awk '/^top -/ {n++} n == 2 && /^ *[0-9]/ && $9 > 1 {printf "   %5s %s\n", $9, $12}' | head -6
}
