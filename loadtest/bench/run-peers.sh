#!/usr/bin/env bash
# Benchmarks a Flotilla node beside NGINX and HAProxy in the same run, with ../shared/bench/peers.sh.
#
#   loadtest/bench/run-peers.sh            (DUR, ROUNDS, CONNS pass through to peers.sh)
#
# Builds the jar if needed, starts one node on 127.0.0.1:18200 pinned to CPU 0 (the peers run with one
# worker each, pinned the same way), in front of peers.sh's origin on :18001, warms the JIT for a few
# seconds, runs peers.sh with PROJECT_URL/PROJECT_PID, and stops the node.
# The node runs AS SHIPPED (issue 16): bin/flotilla's default JVM options and a config of one listener,
# one upstream and one route, nothing else, which is what peers.sh needs. Every other setting is the
# default a user gets: request ids on, upstream pool limits, one event loop per core (one here: the
# JVM counts the CPUs taskset allows).
# Results: /tmp/perf-anchor/summary.txt and the ratios peers.sh prints (CPU per request, prx_us/r,
# is the stable figure on a shared machine; req/s is not); copy them to docs/benchmarks.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$top/../shared/bench/peers.sh}
work=/tmp/flotilla-bench
mkdir -p "$work"
[ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -DskipTests package)
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

cat > "$work/bench.yaml" <<YAML
listeners:
  - bind: 127.0.0.1:18200
upstreams:
  origin:
    servers: [127.0.0.1:18001]
routes:
  - {path: /, upstream: origin}
YAML

# peers.sh starts the origin; the node only needs it once traffic flows, so it can start first.
# As shipped: bin/flotilla's default JVM options.
# setsid: a session of its own, as the daemonized NGINX and HAProxy have. With autogroup scheduling
# the kernel shares a CPU between sessions first, and this script's session also holds wrk, busy on
# the other CPU: the node would get about half of NGINX's weight on CPU 0 (found by run-tls.sh's work).
setsid taskset -c 0 "$top/bin/flotilla" node --config "$work/bench.yaml" > "$work/node.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18200/ 2>/dev/null && break; sleep 0.1; done
# A node still draining on :18200 (a SIGTERMed one keeps its port for drain_grace) makes this one fail.
kill -0 "$pid" 2>/dev/null || { echo "the node did not start:" >&2; cat "$work/node.log" >&2; exit 1; }

# JIT warm-up against a throwaway origin on the same port peers.sh uses is not possible before it
# starts, so peers.sh's own 1 s warm-up per target is extended by a pre-run here once it is up.
(
  for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:18001/small 2>/dev/null && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c50 -d6s http://127.0.0.1:18200/small > /dev/null 2>&1 || true
  taskset -c 1 wrk -t1 -c50 -d3s http://127.0.0.1:18200/big > /dev/null 2>&1 || true
  # The Connection: close rows run code the keep-alive ones do not (accept, pipeline setup, close):
  # without this its C2 compilations (1.5 s of CPU on the pinned core) fell in the first measured round.
  taskset -c 1 wrk -t1 -c50 -d3s -H 'Connection: close' http://127.0.0.1:18200/small > /dev/null 2>&1 || true
) &
PROJECT_URL=http://127.0.0.1:18200 PROJECT_PID=$pid "$peers"
