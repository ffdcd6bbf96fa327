#!/usr/bin/env bash
# /v1/ask under load, this checkout against an earlier commit, side by side:
# both servers run at once (each on its own index, built by its own code),
# and wrk runs alternate between them, so a noisy shared machine slows both
# alike. Prints one RESULT line per run; compare medians and the ratio.
#
#   bench/compare_load.sh 5cd5260                  # ROUNDS=3 DURATION=30 CLIENTS=8
#   BQA_QUESTIONS=bench/short_questions.txt bench/compare_load.sh 7220971   # other questions (ask.lua)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bench/compare_load.sh BASE_COMMIT}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-30}
CLIENTS=${CLIENTS:-8}
WORK=${WORK:-build/compare-$BASE}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }

# The earlier commit's code, and an index it built itself (vectors copied from
# index/ and reused by content hash, so only its lexical side is rebuilt).
if [ ! -d "$WORK/src" ]; then
  mkdir -p "$WORK/src"
  git archive "$BASE" src | tar -x -C "$WORK"
fi
if [ ! -f "$WORK/index/CURRENT" ]; then
  rm -rf "$WORK/index" && cp -r index "$WORK/index"
  PYTHONPATH="$WORK/src" .venv/bin/python -m briefing_qa.cli ingest ingest --index "$WORK/index" --quiet
fi

start() {  # name pythonpath index port
  PYTHONPATH="$2" BRIEFING_QA_INDEX="$3" .venv/bin/python -m briefing_qa.cli serve --port "$4" >"/tmp/bqa-compare-$1.log" 2>&1 &
  echo $!
}
base_pid=$(start base "$WORK/src" "$WORK/index" 8771)
head_pid=$(start head "$PWD/src" index 8772)
trap 'kill $base_pid $head_pid 2>/dev/null || true' EXIT
for port in 8771 8772; do
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  wrk -t1 -c2 -d3s -s bench/ask.lua "http://127.0.0.1:$port" >/dev/null  # warm up
done
echo "# $(date -u +%FT%TZ) base=$BASE head=$(git rev-parse --short HEAD) clients=$CLIENTS duration=${DURATION}s load=$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  for side in base head; do
    port=$([ "$side" = base ] && echo 8771 || echo 8772)
    printf "round=%s %s " "$r" "$side"
    wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --timeout 10s -s bench/ask.lua --latency "http://127.0.0.1:$port" | grep '^RESULT'
  done
done
