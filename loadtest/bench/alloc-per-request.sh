#!/usr/bin/env bash
# Heap bytes a node allocates per request on its event loop, 1 KiB keep-alive through one route, read
# from JFR's per-thread allocation counters (exact, not sampled; alloc-report.py reads them), less
# what the loop allocates idle. For before/after checks of hot-path changes (issue 14's Exchange
# split); it measures allocation, not speed. One connection by default: every
# request is then one read and one write each way, so batching under load does not move the figure.
#
#   loadtest/bench/alloc-per-request.sh [JAR ...]    (default: node/target/flotilla.jar; KEEP=1 keeps the recordings)
#
# Each jar in turn: NGINX origin on 127.0.0.1:$ORIGIN_PORT (/small, 1 KiB), the node on 127.0.0.1:$PORT
# as shipped (bin/flotilla's JVM options, pinned to CPU 0), wrk warm-up for $WARM s, then a JFR
# recording of $IDLE s idle and a $DUR s wrk run (-c$CONNS); stops both by PID. Loopback only;
# bounded in time.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${PORT:-20800} ORIGIN_PORT=${ORIGIN_PORT:-20801} WARM=${WARM:-15} DUR=${DUR:-10} IDLE=${IDLE:-6} CONNS=${CONNS:-1}
work=$(mktemp -d /tmp/flotilla-alloc.XXXXXX)
jars=("$@")
[ ${#jars[@]} -gt 0 ] || jars=("$top/node/target/flotilla.jar")

mkdir -p "$work/www" "$work/logs"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/www/small"
cat > "$work/origin.conf" <<CONF
daemon off; worker_processes 1; pid $work/origin.pid; error_log $work/logs/origin.err;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$ORIGIN_PORT; root $work/www; } }
CONF
cat > "$work/node.yaml" <<YAML
listeners:
  - bind: 127.0.0.1:$PORT
upstreams:
  origin:
    servers: [127.0.0.1:$ORIGIN_PORT]
routes:
  - {path: /, upstream: origin}
YAML
# 1 s per-thread allocation totals instead of once per chunk.
sed 's|<setting name="period">everyChunk</setting>|<setting name="period">1 s</setting>|' \
  "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/jfr/profile.jfc" > "$work/alloc.jfc"

nginx -p "$work/" -e "$work/logs/origin.err" -c "$work/origin.conf" &
origin=$!
node=
cleanup() {
  [ -n "$node" ] && kill "$node" 2>/dev/null && wait "$node" 2>/dev/null
  kill "$origin" 2>/dev/null; wait "$origin" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=0
for jar in "${jars[@]}"; do
  n=$((n + 1))
  FLOTILLA_JAR=$jar setsid taskset -c 0 "$top/bin/flotilla" node --config "$work/node.yaml" > "$work/node.log" 2>&1 &
  node=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/small" && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARM}s" "http://127.0.0.1:$PORT/small" > /dev/null
  jcmd "$node" JFR.start name=alloc settings="$work/alloc.jfc" filename="$work/alloc-$n.jfr" > /dev/null
  # An idle stretch first: what the loop allocates with no traffic (timers, health checks) is
  # measured there and taken off the busy stretch, so the figure does not move with throughput.
  sleep "$IDLE"
  from=$(date +%s.%N)
  requests=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$PORT/small" | awk '/requests in/ {print $1}')
  to=$(date +%s.%N)
  sleep 1.5
  jcmd "$node" JFR.stop name=alloc > /dev/null
  kill "$node"; wait "$node" 2>/dev/null || true; node=
  echo "== $jar: $requests requests in ${DUR}s"
  jfr print --json --events jdk.ThreadAllocationStatistics "$work/alloc-$n.jfr" \
    | python3 "$top/loadtest/bench/alloc-report.py" "$requests" "$from" "$to"
done
[ -n "${KEEP:-}" ] && echo "recordings kept in $work" || rm -rf "$work"
