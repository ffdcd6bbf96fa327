#!/usr/bin/env bash
# Load test of POST /v1/ask with wrk (Debian package `wrk`): 8 and 32
# concurrent clients, DURATION seconds each, against a server it starts on
# INDEX (or against URL, if given). Prints one RESULT line per run:
# requests/s, p50/p95/p99 latency and errors (socket errors and non-2xx).
#
#   bench/load.sh                                   # full corpus index in index/
#   INDEX=/tmp/idx WORKERS=2 DURATION=60 bench/load.sh
#   BRIEFING_QA_ENCODER=torch bench/load.sh         # compare with the torch encoder
#   URL=http://127.0.0.1:8000 bench/load.sh         # a server already running
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
CLIENTS=${CLIENTS:-"8 32"}
WORKERS=${WORKERS:-1}
INDEX=${INDEX:-index}
PORT=${PORT:-8765}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }

pid=""
if [ -z "${URL:-}" ]; then
  URL="http://127.0.0.1:$PORT"
  BRIEFING_QA_INDEX="$INDEX" .venv/bin/briefing-qa serve --port "$PORT" --workers "$WORKERS" >/tmp/bqa-bench-server.log 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "$URL/readyz" >/dev/null || { echo "server not ready" >&2; cat /tmp/bqa-bench-server.log >&2; exit 1; }
fi
echo "# $(date -u +%FT%TZ) url=$URL workers=$WORKERS encoder=${BRIEFING_QA_ENCODER:-onnx-int8} batching=${BRIEFING_QA_ENCODER_BATCHING:-true} load=$(cut -d' ' -f1-3 /proc/loadavg)"
# warm up: first requests load caches
wrk -t1 -c2 -d3s -s bench/ask.lua "$URL" >/dev/null
for c in $CLIENTS; do
  t=$(( c < 2 ? 1 : 2 ))
  printf "clients=%s " "$c"
  wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s -s bench/ask.lua --latency "$URL" | grep '^RESULT'
done
