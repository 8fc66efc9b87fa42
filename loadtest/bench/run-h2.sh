#!/usr/bin/env bash
# HTTP/2 to clients beside NGINX in the same run (issue 15): h2load with many streams per connection
# over TLS (h2 by ALPN), 1 KiB and 64 KiB responses, Flotilla as shipped against NGINX with HTTP/2 on
# its TLS listener; both proxy over kept-alive HTTP/1.1 to the same origin.
#
#   loadtest/bench/run-h2.sh          DUR=8 ROUNDS=3 CONNS=20 STREAMS=50 to change the defaults
#
# The origin is an NGINX worker serving /small (1 KiB) and /big (64 KiB) as run-peers.sh's does. Both
# proxies: 1 worker / 1 event loop pinned to CPU 0 with the origin, h2load pinned to CPU 1, each in a
# session of its own (autogroup scheduling: see run-tls.sh). The node runs as shipped: bin/flotilla's
# JVM options and a config of one TLS listener (HTTP/2 is on by default there), one upstream, one route.
# Each round runs both servers back to back, in an order alternating by round. Reported per test: the
# median req/s and the server's CPU per request (utime+stime of the proxy process over the run divided
# by the requests h2load saw succeed): on a shared machine the CPU per request is the figure that holds.
# Fixed ports 20401 (origin), 20443 (NGINX), 20444 (the node). Only processes it starts are stopped.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/flotilla-bench-h2
DUR=${DUR:-8}; ROUNDS=${ROUNDS:-3}; CONNS=${CONNS:-20}; STREAMS=${STREAMS:-50}; WARM=${WARM:-20}
SRV="setsid taskset -c 0"; LG="setsid taskset -c 1"
for c in nginx:nginx h2load:nghttp2-client openssl:openssl curl:curl; do
  command -v "${c%%:*}" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${c#*:}"; }
done
[ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -DskipTests package)
for port in 20401 20443 20444; do
  if [ -n "$(ss -Hltn "sport = :$port")" ]; then echo "port $port busy, aborting" >&2; exit 1; fi
done
rm -rf "$W"; mkdir -p "$W/www" "$W/logs" "$W/conf"
head -c 1024 /dev/zero | tr '\0' a > "$W/www/small"
head -c 65536 /dev/zero | tr '\0' b > "$W/www/big"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ec.key" -out "$W/ec.pem" \
  -days 30 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# NGINX 1.25.1 made HTTP/2 a server directive ("http2 on"); before, it is a flag of listen.
ngx_version=$(nginx -v 2>&1 | sed 's|.*/||')
if printf '%s\n1.25.1\n' "$ngx_version" | sort -V -C; then h2_listen="ssl http2"; h2_directive=""
else h2_listen="ssl"; h2_directive="http2 on;"; fi
ngx() { # name, server block
  cat > "$W/conf/$1.conf" <<NGX
worker_processes 1; pid $W/logs/$1.pid; error_log $W/logs/$1.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 60s; sendfile on; tcp_nodelay on;
  upstream origin { server 127.0.0.1:20401; keepalive 64; keepalive_requests 1000000; }
  ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve X25519:prime256v1;
  http2_max_concurrent_streams 128;
  $2
}
NGX
  $SRV nginx -p "$W/" -c "$W/conf/$1.conf"
  for _ in $(seq 50); do [ -s "$W/logs/$1.pid" ] && break; sleep 0.1; done
  pids+=("$(cat "$W/logs/$1.pid")")
}
ngx origin "server { listen 127.0.0.1:20401 backlog=4096; root $W/www; }"
ngx nginx "server { listen 127.0.0.1:20443 $h2_listen backlog=4096; $h2_directive
    ssl_certificate $W/ec.pem; ssl_certificate_key $W/ec.key;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"

cat > "$W/node.yaml" <<YAML
listeners:
  - bind: 127.0.0.1:20444
    tls: {certificates: [{cert: $W/ec.pem, key: $W/ec.key}]}
upstreams:
  origin: {servers: [127.0.0.1:20401]}
routes:
  - {path: /, upstream: origin}
YAML
$SRV "$top/bin/flotilla" node --config "$W/node.yaml" > "$W/logs/node.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sk -o /dev/null https://127.0.0.1:20444/small && break; sleep 0.1; done
# The JVM's pid, from its listening socket: setsid may fork, so $! need not be it.
node=$(ss -Hltnp "sport = :20444" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$node" ] || { echo "the node did not start:" >&2; cat "$W/logs/node.log" >&2; exit 1; }
pids+=("$node")
for u in https://127.0.0.1:20443 https://127.0.0.1:20444; do
  got=$(curl -sk --http2 -o /dev/null -w '%{http_version} %{http_code} %{size_download}' "$u/big")
  [ "$got" = "2 200 65536" ] || { echo "bad answer from $u/big: $got" >&2; exit 1; }
done
nginx_worker=$(pgrep -P "$(cat "$W/logs/nginx.pid")" | head -1)

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
# bench URL PID -> "rps server-us/req succeeded failed"
bench() {
  local before after out
  before=$(cpu "$2")
  # h2load may wait long for connections on a starved machine: every run is cut at DUR + 60 s.
  out=$(timeout $(( DUR + 60 )) $LG h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$DUR" "$1" 2>&1 || true)
  after=$(cpu "$2")
  awk -v t=$((after - before)) -v hz="$hz" '
    /^finished in/ {rps = $4} /^requests:/ {ok = $8; failed = $10}
    END {printf "%.0f %.1f %d %d", rps, ok ? t * 1e6 / hz / ok : 0, ok, failed}' <<<"$out"
}

# Warm-up: the JIT compiles on CPU 0 beside the event loop; a short h2load load on each path first.
timeout $(( WARM + 60 )) $LG h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$WARM" https://127.0.0.1:20444/small \
  >/dev/null 2>&1 || true
timeout $(( WARM + 60 )) $LG h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$(( WARM / 2 + 1 ))" https://127.0.0.1:20444/big \
  >/dev/null 2>&1 || true

echo "load average before the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$W/rounds.txt"
for r in $(seq "$ROUNDS"); do
  for path in small big; do
    if [ $(( r % 2 )) -eq 1 ]; then
      n=$(bench "https://127.0.0.1:20443/$path" "$nginx_worker"); f=$(bench "https://127.0.0.1:20444/$path" "$node")
    else
      f=$(bench "https://127.0.0.1:20444/$path" "$node"); n=$(bench "https://127.0.0.1:20443/$path" "$nginx_worker")
    fi
    echo "round $r $path nginx $n | flotilla $f | load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$W/rounds.txt"
  done
done

med() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
col() { awk -v p="$1" -v s="$2" -v k="$3" '$3 == p {for (i = 1; i <= NF; i++) if ($i == s) print $(i + k)}' "$W/rounds.txt"; }
echo; echo "medians over $ROUNDS rounds, h2load -c$CONNS -m$STREAMS over TLS (ratio = flotilla / nginx;"
echo "us/req = the proxy's CPU per request):"
for path in small big; do
  nm=$(col "$path" nginx 1 | med); fm=$(col "$path" flotilla 1 | med)
  nu=$(col "$path" nginx 2 | med); fu=$(col "$path" flotilla 2 | med)
  printf '%-6s nginx %7s req/s %6s us/req   flotilla %7s req/s %6s us/req   req/s ratio %s  CPU/req ratio %s\n' \
    "$path" "$nm" "$nu" "$fm" "$fu" "$(awk -v a="$fm" -v b="$nm" 'BEGIN {printf "%.2f", b ? a / b : 0}')" \
    "$(awk -v a="$fu" -v b="$nu" 'BEGIN {printf "%.2f", b ? a / b : 0}')"
done | tee "$W/summary.txt"
failed=$(awk '{for (i = 1; i <= NF; i++) if ($i == "nginx" || $i == "flotilla") s += $(i + 4)} END {print s + 0}' "$W/rounds.txt")
[ "$failed" = 0 ] || echo "WARNING: $failed requests failed (see $W/rounds.txt)"
