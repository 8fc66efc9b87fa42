#!/usr/bin/env bash
# TLS termination beside NGINX in the same run (issue 4): new TLS handshakes per second and HTTPS
# keep-alive requests per second, Flotilla against NGINX, same certificate, same origin, same client.
#
#   loadtest/bench/run-tls.sh          DUR=8 ROUNDS=3 CONNS=50 to change the defaults
#
# Both proxies: 1 worker / 1 event loop pinned to CPU 0 with the origin (an NGINX worker serving a
# 1 KiB file on :18301), wrk pinned to CPU 1, as ../shared/bench/peers.sh does. Each proxy terminates
# TLS 1.2/1.3 with the same ECDHE-only suites and X25519 first, then proxies over kept-alive HTTP/1.1.
#   handshakes/s: wrk with "Connection: close", so every request is a new full TLS handshake (wrk
#                 keeps no sessions); ECDSA P-256 (the fair default) and RSA 2048
#   keep-alive:   wrk over 50 kept-alive HTTPS connections
# Targets alternate within each round; the ratios are of medians over rounds of the same run. Server
# CPU (utime+stime over the run) is printed beside each figure: near 100% means the server, not the
# client, was the limit. Fixed ports 18301 and 18343-18346. Only processes this script starts are stopped.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/flotilla-bench-tls
DUR=${DUR:-8}; ROUNDS=${ROUNDS:-3}; CONNS=${CONNS:-50}
SRV="taskset -c 0"; LG="taskset -c 1"
for c in nginx:nginx wrk:wrk openssl:openssl curl:curl; do
  command -v "${c%%:*}" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${c#*:}"; }
done
[ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -DskipTests package)
rm -rf "$W"; mkdir -p "$W/www" "$W/logs" "$W/conf"
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$W/www/small"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ec.key" -out "$W/ec.pem" \
  -days 30 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/rsa.key" -out "$W/rsa.pem" \
  -days 30 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

ngx() { # name, server blocks
  cat > "$W/conf/$1.conf" <<NGX
worker_processes 1; pid $W/logs/$1.pid; error_log $W/logs/$1.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
  upstream origin { server 127.0.0.1:18301; keepalive 64; keepalive_requests 1000000; }
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
  ssl_ecdh_curve X25519:prime256v1:secp384r1;
  $2
}
NGX
  $SRV nginx -p "$W/" -c "$W/conf/$1.conf"
  for _ in $(seq 50); do [ -s "$W/logs/$1.pid" ] && break; sleep 0.1; done
  pids+=("$(cat "$W/logs/$1.pid")")
}
ngx origin "server { listen 127.0.0.1:18301 backlog=4096; root $W/www; }"
ngx nginx "server { listen 127.0.0.1:18343 ssl backlog=4096; ssl_certificate $W/ec.pem; ssl_certificate_key $W/ec.key;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }
  server { listen 127.0.0.1:18345 ssl backlog=4096; ssl_certificate $W/rsa.pem; ssl_certificate_key $W/rsa.key;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"

cat > "$W/node.yaml" <<YAML
node: {name: bench, event_loops: 1}
listeners:
  - bind: 127.0.0.1:18344
    tls: {certificates: [{cert: $W/ec.pem, key: $W/ec.key}]}
  - bind: 127.0.0.1:18346
    tls: {certificates: [{cert: $W/rsa.pem, key: $W/rsa.key}]}
upstreams:
  origin: {servers: [127.0.0.1:18301], pool: {max_idle: 256, max_requests: 0}}
routes:
  - {path: /, upstream: origin}
headers: {request_id: false}
YAML
$SRV "$top/bin/flotilla" node --config "$W/node.yaml" > "$W/logs/node.log" 2>&1 &
pids+=($!); node=$!
for _ in $(seq 100); do curl -sk -o /dev/null https://127.0.0.1:18344/small && break; sleep 0.1; done
grep -h "TLS by" "$W/logs/node.log"
for u in https://127.0.0.1:18343/small https://127.0.0.1:18344/small; do
  [ "$(curl -sk -o /dev/null -w '%{http_code}%{size_download}' "$u")" = 2001024 ] || { echo "bad answer from $u" >&2; exit 1; }
done
nginx_worker=$(pgrep -P "$(cat "$W/logs/nginx.pid")" | head -1)

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
# bench NAME URL PID [close] -> "rps cpu%"
bench() {
  local extra=(); [ "${4:-}" = close ] && extra=(-H "Connection: close")
  local before; before=$(cpu "$3")
  local out; out=$($LG wrk -t1 -c"$CONNS" -d"${DUR}s" "${extra[@]}" "$2" 2>&1)
  local after; after=$(cpu "$3")
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  local errors; errors=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')
  echo "$rps $(( (after - before) * 100 / hz / DUR ))% $errors"
}

echo "warm-up (JIT) ..."
for _ in 1 2; do
  $LG wrk -t1 -c"$CONNS" -d5s https://127.0.0.1:18344/small >/dev/null 2>&1 || true
  $LG wrk -t1 -c"$CONNS" -d5s -H "Connection: close" https://127.0.0.1:18344/small >/dev/null 2>&1 || true
  $LG wrk -t1 -c"$CONNS" -d3s -H "Connection: close" https://127.0.0.1:18346/small >/dev/null 2>&1 || true
done

: > "$W/rounds.txt"
for r in $(seq "$ROUNDS"); do
  for t in "handshakes-ecdsa 18343 18344 close" "keepalive-ecdsa 18343 18344 keep" "handshakes-rsa 18345 18346 close"; do
    set -- $t
    n=$(bench nginx "https://127.0.0.1:$2/small" "$nginx_worker" "$4")
    f=$(bench flotilla "https://127.0.0.1:$3/small" "$node" "$4")
    echo "round $r $1 nginx $n | flotilla $f" | tee -a "$W/rounds.txt"
  done
done

echo; echo "medians over $ROUNDS rounds (rps; ratio = flotilla / nginx):"
for test in handshakes-ecdsa keepalive-ecdsa handshakes-rsa; do
  nm=$(awk -v t="$test" '$3 == t {print $5}' "$W/rounds.txt" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  fm=$(awk -v t="$test" '$3 == t {for (i = 1; i <= NF; i++) if ($i == "flotilla") print $(i+1)}' "$W/rounds.txt" \
       | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-18s nginx %10s  flotilla %10s  ratio %s\n' "$test" "$nm" "$fm" "$(awk -v a="$fm" -v b="$nm" 'BEGIN {printf "%.2f", a / b}')"
done | tee "$W/summary.txt"
