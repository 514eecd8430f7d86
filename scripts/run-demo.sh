#!/usr/bin/env bash
# The demo (what `make run` calls): `cityops demo` serves the Lâm Đồng demo, and once /readyz
# answers `cityops simulate` feeds it live readings. Ctrl+C (or TERM) stops both.
#
#   HOST=127.0.0.1 PORT=8000 BIN=.venv/bin scripts/run-demo.sh [extra `cityops simulate` options]
set -euo pipefail

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
BIN=${BIN:-.venv/bin}
export CITYOPS_ENV=${CITYOPS_ENV:-demo}  # the server and the simulator share settings and DB
probe_host=$HOST
[ "$probe_host" = "0.0.0.0" ] && probe_host=127.0.0.1
url="http://$probe_host:$PORT"

server="" sim=""
stop() {
  trap - INT TERM EXIT
  [ -n "$sim" ] && kill "$sim" 2>/dev/null || true
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

"$BIN/cityops" demo --host "$HOST" --port "$PORT" &
server=$!

ready() {
  "$BIN/python" - "$url/readyz" <<'PY'
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}
for _ in $(seq 1 240); do
  kill -0 "$server" 2>/dev/null || { echo "run-demo: the server stopped" >&2; exit 1; }
  ready && break
  sleep 0.5
done
ready || { echo "run-demo: $url/readyz did not answer in 2 minutes" >&2; exit 1; }

"$BIN/cityops" simulate --url "$url" "$@" &
sim=$!
wait "$server"
