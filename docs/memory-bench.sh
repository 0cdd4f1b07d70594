#!/bin/sh
# Whole-process memory of kiosk-server with idle screens connected (issue 10).
#
#   docs/memory-bench.sh [SCREENS]        (default 10000)
#
# Builds kiosk-server, starts it on 127.0.0.1 with a fresh data dir,
# registers SCREENS screens with one POST /api/v1/screens/import, restarts
# it fresh on that data dir, reads its RSS (/proc/PID/status), connects
# SCREENS idle players (hello, then only answering pings) from the test
# process, reads its RSS again, prints base RSS, RSS with every screen
# connected and bytes per connection, and stops everything. It fails above
# 60 MB before the first connection or 24 KB per connection.
#
# Everything runs on loopback; the players hold SCREENS sockets, so the
# open-file hard limit must allow that many (ulimit -Hn). Run it with
# nothing else busy on the machine for figures worth comparing.
set -eu
cd "$(dirname "$0")/.."
screens=${1:-10000}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
KIOSK_MEM_SCREENS=$screens go test -count=1 -timeout 15m \
	-run '^TestServerMemoryPerIdleScreen$' -v ./cmd/kiosk-server/
