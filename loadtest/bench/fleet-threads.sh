#!/usr/bin/env bash
# Where a fleet miss and a remote read spend CPU, per thread kind (issue 11): two keyed nodes (a, b) in
# one fleet in front of an NGINX origin, warm-ups of misses and remote reads (WD seconds each), then
# measured phases (D seconds): misses through a, cold and warm reads through b. Per phase: requests,
# req/s, p50, the CPU per request of the node receiving them and of the other; with THR=1 also per
# thread kind on both nodes. JFR=1 records both nodes (dumped to /tmp/prof/{a,b}.jfr), NOKEY=1 runs
# without a fleet key, MISSONLY=1 skips the one-connection phases, EXTRA adds JVM options.
# Fixed ports 18800-18832 (the fleet benchmark's range). Only processes it starts are stopped.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/prof; N=${N:-3000}
rm -rf $W; mkdir -p $W/{conf,www,logs,run,tmp}
head -c 1024 /dev/zero | tr '\0' a > $W/www/obj
cat > $W/conf/origin.conf <<NGX
worker_processes 1; pid $W/run/origin.pid; error_log $W/logs/origin.err warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path $W/tmp/cb; proxy_temp_path $W/tmp/px; fastcgi_temp_path $W/tmp/fc; uwsgi_temp_path $W/tmp/uw; scgi_temp_path $W/tmp/sc;
  server { listen 127.0.0.1:18800; root $W/www;
    location / { rewrite ^ /obj break; add_header Cache-Control "public, max-age=3600"; } } }
NGX
[ -n "${NOKEY:-}" ] || $top/bin/flotilla fleet-key > $W/fleet.key
nginx -p $W/ -e $W/logs/origin.err -c $W/conf/origin.conf
declare -A PID
cleanup() { for p in "${PID[@]}"; do kill $p 2>/dev/null||true; done; kill $(cat $W/run/origin.pid) 2>/dev/null||true; }
trap cleanup EXIT
for i in 1 2; do n=$([ $i = 1 ] && echo a || echo b)
  peers=""; [ $i = 1 ] || peers=", peers: ['127.0.0.1:18831']"
  cat > $W/conf/$n.yaml <<YAML
node: {name: $n, admin: '127.0.0.1:1880$i', event_loops: 1, drain_grace: 0s}
listeners: [{bind: '127.0.0.1:1881$i'}]
upstreams: {origin: {servers: ['127.0.0.1:18800']}}
routes: [{path: /, upstream: origin, cache: true}]
headers: {request_id: false}
cluster: {name: prof, bind: '127.0.0.1:1882$i', gossip_port: 1883$i, expected_size: 2, near_cache: 256m$peers$([ -n "${NOKEY:-}" ] || echo ", key_file: $W/fleet.key")}
YAML
  opts="-Xms1g -Xmx1g -Xmn512m -XX:+UseParallelGC -Dio.netty.leakDetection.level=disabled -Dio.netty.buffer.checkAccessible=false -Dio.netty.buffer.checkBounds=false ${EXTRA:-}"
  [ -n "${JFR:-}" ] && opts="$opts -XX:StartFlightRecording=name=prof,settings=profile"
  JAVA_OPTS="$opts" setsid $top/bin/flotilla node --config $W/conf/$n.yaml > $W/logs/$n.log 2>&1 &
  PID[$n]=$!
  for _ in $(seq 600); do grep -qs "serving on" $W/logs/$n.log && break; sleep 0.1; done
done
for _ in $(seq 300); do [ "$(curl -s 127.0.0.1:18802/fleet | grep -o '"name":' | wc -l)" -eq 2 ] && break; sleep 0.2; done
ticks() { sed 's/^.*) //' /proc/$1/stat | awk '{print $12 + $13}'; }
threads() { for t in /proc/$1/task/*; do l=$(cat $t/stat 2>/dev/null) || continue; n=${l#*(}; n=${n%)*}; r=${l##*) }; set -- $r; echo "$(basename $t) $((${12} + ${13})) ${n// /_}"; done | sort; }
thrdiff() { join $1 $2 | awk -v n=$3 '{d=$4-$2; if (d>0) {sub(/[0-9]+$/,"",$3); a[$3]+=d}} END {for (k in a) printf "%8.1f us/req %s\n", a[k]*10000/n, k}' | sort -rn | head -12; }
HZ=$(getconf CLK_TCK)
# warm-up
cat > $W/seq.lua <<'LUA'
local prefix, i = "/", 0
function init(args) prefix = args[1] end
function request() i = i + 1; return wrk.format("GET", prefix .. i) end
LUA
phase() { # label node prefix secs conns
  local p=${PID[$2]} o; o=${PID[$([ $2 = a ] && echo b || echo a)]}
  local c0 o0; c0=$(ticks $p); o0=$(ticks $o)
  [ -n "${THR:-}" ] && { threads $o > $W/thr0.$1; threads $p > $W/pthr0.$1; }
  wrk -t1 -c${5:-1} -d${4}s --latency -H 'Host: bench.test' -s $W/seq.lua http://127.0.0.1:1881$([ $2 = a ] && echo 1 || echo 2) -- $3 > $W/$1.txt
  [ -n "${THR:-}" ] && { threads $o > $W/thr1.$1; threads $p > $W/pthr1.$1; }
  local c1 o1 n rps p50; c1=$(ticks $p); o1=$(ticks $o)
  n=$(awk '/requests in/ {print $1}' $W/$1.txt); rps=$(awk '/Requests\/sec/ {print $2}' $W/$1.txt); p50=$(awk '/^ +50%/ {print $2}' $W/$1.txt)
  [ -n "${THR:-}" ] && { echo "  $1 other node's threads:"; thrdiff $W/thr0.$1 $W/thr1.$1 $n; echo "  $1 measured node's threads:"; thrdiff $W/pthr0.$1 $W/pthr1.$1 $n; }
  echo "$1 n=$n rps=$rps p50=$p50 node_us/req=$(( (c1-c0)*1000000/HZ/n )) other_us/req=$(( (o1-o0)*1000000/HZ/n )) $(curl -s 127.0.0.1:1880$([ $2 = a ] && echo 1 || echo 2)/cache | head -c 300)"
}
phase warm-miss-a a /w/ ${WD:-5} 4 >/dev/null
phase warm-cold-b b /w/ ${WD:-5} 4 >/dev/null
phase warm-miss-b b /w2/ ${WD:-5} 4 >/dev/null
phase warm-cold-a a /w2/ ${WD:-5} 4 >/dev/null
[ -n "${MISSONLY:-}" ] || phase miss-a-c1 a /m1/ ${D:-8} 1
phase miss-a-c20 a /m2/ ${D:-8} 20
[ -n "${MISSONLY:-}" ] || phase cold-b-c1 b /m1/ ${D:-8} 1
phase cold-b-c20 b /m2/ ${D:-8} 20
[ -n "${JFR:-}" ] && { jcmd ${PID[b]} JFR.dump name=prof filename=$W/b.jfr >/dev/null; jcmd ${PID[a]} JFR.dump name=prof filename=$W/a.jfr >/dev/null; }
phase warm-b b /m1/ 4 1
sleep ${HOLD:-0}
