#!/usr/bin/env bash
# Where the node's event loop spends its time on the three peers.sh paths (issue 16), as proportions
# that hold on a busy machine: shares of JFR's execution samples on the event loop and bytes the event
# loop allocates per request. No req/s is claimed from it.
#
#   loadtest/bench/profile-paths.sh [JAR]      (DUR=8 s a path, PATHS="ka1 ka64 close", OUT=/tmp/flotilla-prof)
#
# One node as shipped (bin/flotilla's JVM options, one listener/upstream/route) on 127.0.0.1:21000 pinned
# to CPU 0, NGINX as the origin on :21001 (/small 1 KiB, /big 64 KiB), wrk -t1 -c50 on CPU 1. Each path
# is one JFR recording (settings=profile); jfr-shares.py prints the shares and bytes per request.
# JAR runs another build of the node (e.g. main's) with the same script, for a before/after.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
jar=${1:-$top/node/target/flotilla.jar}
W=${OUT:-/tmp/flotilla-prof}; DUR=${DUR:-8}
for tool in nginx wrk jcmd jfr; do
  command -v $tool > /dev/null || { echo "profile-paths.sh needs $tool (apt-get install nginx wrk; a JDK)" >&2; exit 1; }
done
rm -rf "$W"; mkdir -p "$W"/{www,logs,run,tmp}
head -c 1024 /dev/zero | tr '\0' a > "$W/www/small"
head -c 65536 /dev/zero | tr '\0' b > "$W/www/big"
cat > "$W/origin.conf" <<NGX
worker_processes 1; pid $W/run/origin.pid; error_log $W/logs/origin.err warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path $W/tmp/cb; proxy_temp_path $W/tmp/px; fastcgi_temp_path $W/tmp/fc;
  uwsgi_temp_path $W/tmp/uw; scgi_temp_path $W/tmp/sc;
  server { listen 127.0.0.1:21001; root $W/www; } }
NGX
cat > "$W/node.yaml" <<YAML
listeners:
  - bind: 127.0.0.1:21000
upstreams:
  origin:
    servers: [127.0.0.1:21001]
routes:
  - {path: /, upstream: origin}
YAML
# JFR's profile settings with the Java sampler at 1 ms (10 ms gives too few samples in DUR seconds)
jfc=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/jfr/profile.jfc
python3 - "$jfc" "$W/prof.jfc" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r'(<event name="jdk.ExecutionSample">.*?<setting name="period"[^>]*>)[^<]*', r'\g<1>1 ms', s, flags=re.S)
open(sys.argv[2], "w").write(s)
PY
taskset -c 1 nginx -p "$W/" -e "$W/logs/origin.err" -c "$W/origin.conf"
FLOTILLA_JAR="$jar" setsid taskset -c 0 "$top/bin/flotilla" node --config "$W/node.yaml" > "$W/logs/node.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; kill $(cat $W/run/origin.pid) 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -s -o /dev/null http://127.0.0.1:21000/small 2>/dev/null && break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null || { echo "the node did not start:" >&2; cat "$W/logs/node.log" >&2; exit 1; }
run() { # path-name wrk-args...
  local name=$1; shift
  taskset -c 1 wrk -t1 -c50 -d4s "$@" > /dev/null 2>&1 || true # JIT warm-up for this path
  jcmd $pid JFR.start name=$name settings="$W/prof.jfc" > /dev/null
  taskset -c 1 wrk -t1 -c50 -d${DUR}s "$@" > "$W/$name.wrk"
  jcmd $pid JFR.stop name=$name filename="$W/$name.jfr" > /dev/null
  local n; n=$(awk '/requests in/ {print $1}' "$W/$name.wrk")
  echo "== $name: $n requests in ${DUR}s"
  python3 "$top/loadtest/bench/jfr-shares.py" "$W/$name.jfr" "$n"
}
for p in ${PATHS:-ka1 ka64 close}; do
  case $p in
    ka1) run ka1 http://127.0.0.1:21000/small ;;
    ka64) run ka64 http://127.0.0.1:21000/big ;;
    close) run close -H 'Connection: close' http://127.0.0.1:21000/small ;;
  esac
done
