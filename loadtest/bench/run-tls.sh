#!/usr/bin/env bash
# TLS termination beside NGINX in the same run (issue 4): new TLS handshakes per second and HTTPS
# keep-alive requests per second, Flotilla against NGINX, same certificate, same origin, same client.
#
#   loadtest/bench/run-tls.sh          DUR=8 ROUNDS=5 CONNS=50 to change the defaults
#
# Both proxies: 1 worker / 1 event loop pinned to CPU 0 with the origin (an NGINX worker serving a
# 1 KiB file on :18701), wrk pinned to CPU 1, as ../shared/bench/peers.sh does, each in a session of
# its own (see SRV below). Each proxy terminates TLS 1.2/1.3 with the same ECDHE-only suites and
# X25519 first, then proxies over kept-alive HTTP/1.1.
#   full handshakes/s: wrk with "Connection: close" and $W/fresh.so preloaded, which makes wrk forget
#                 its TLS session when it closes a connection (wrk's SSL_clear keeps it otherwise), so
#                 every request is a new full TLS 1.3 handshake with a certificate signature; ECDSA
#                 P-256 (the fair default) and RSA 2048
#   resumed handshakes/s: the same without fresh.so: wrk as it is, which resumes the session of the
#                 connection before (TLS 1.3 PSK with X25519, no certificate, no signature); ECDSA
#   keep-alive:   wrk over 50 kept-alive HTTPS connections
# The node is warmed up until its JIT compiler threads are nearly idle (they share CPU 0 with the event
# loop). Each round runs both servers back to back, in an order that alternates by round; the ratios
# are of medians over rounds of the same run. Beside each figure: the server's CPU (utime+stime over
# the run; near 100% means the server was the limit), its CPU per request (per handshake for the
# handshake tests: the figure that holds on a busy machine), the client's (wrk's) CPU per request,
# and the load average. Fixed ports 18701 and 18743-18746. Only processes this script starts are stopped.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/flotilla-bench-tls
DUR=${DUR:-8}; ROUNDS=${ROUNDS:-5}; CONNS=${CONNS:-50}
# Each process in a session of its own: with autogroup scheduling (Linux's default) the CPU is shared
# between sessions, and a session's weight is split over the CPUs its processes run on. NGINX
# daemonizes into its own; a node left in the script's session would share one weight with wrk on
# CPU 1 and get about half NGINX's share of a contended CPU 0.
SRV="setsid taskset -c 0"; LG="setsid taskset -c 1"
for c in nginx:nginx wrk:wrk openssl:openssl curl:curl /usr/bin/time:time gcc:gcc; do
  command -v "${c%%:*}" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${c#*:}"; }
done
[ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -DskipTests package)
rm -rf "$W"; mkdir -p "$W/www" "$W/logs" "$W/conf"
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$W/www/small"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ec.key" -out "$W/ec.pem" \
  -days 30 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/rsa.key" -out "$W/rsa.pem" \
  -days 30 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null

# wrk closes a connection with SSL_shutdown + SSL_clear and SSL_clear keeps the session, so its next
# connect resumes it; this preload drops the session first, for full handshakes.
cat > "$W/fresh.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
typedef struct ssl_st SSL;
int SSL_set_session(SSL *s, void *session);
int SSL_clear(SSL *s) {
    static int (*real)(SSL *);
    if (!real) real = (int (*)(SSL *)) dlsym(RTLD_NEXT, "SSL_clear");
    SSL_set_session(s, 0);
    return real(s);
}
C
gcc -shared -fPIC -O2 -o "$W/fresh.so" "$W/fresh.c" -ldl
FRESH="env LD_PRELOAD=$W/fresh.so"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

ngx() { # name, server blocks
  cat > "$W/conf/$1.conf" <<NGX
worker_processes 1; pid $W/logs/$1.pid; error_log $W/logs/$1.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
  upstream origin { server 127.0.0.1:18701; keepalive 64; keepalive_requests 1000000; }
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
ngx origin "server { listen 127.0.0.1:18701 backlog=4096; root $W/www; }"
ngx nginx "server { listen 127.0.0.1:18743 ssl backlog=4096; ssl_certificate $W/ec.pem; ssl_certificate_key $W/ec.key;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }
  server { listen 127.0.0.1:18745 ssl backlog=4096; ssl_certificate $W/rsa.pem; ssl_certificate_key $W/rsa.key;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"

cat > "$W/node.yaml" <<YAML
node: {name: bench, event_loops: 1}
listeners:
  - bind: 127.0.0.1:18744
    tls: {certificates: [{cert: $W/ec.pem, key: $W/ec.key}]}
  - bind: 127.0.0.1:18746
    tls: {certificates: [{cert: $W/rsa.pem, key: $W/rsa.key}]}
upstreams:
  origin: {servers: [127.0.0.1:18701], pool: {max_idle: 256, max_requests: 0}}
routes:
  - {path: /, upstream: origin}
headers: {request_id: false}
YAML
$SRV "$top/bin/flotilla" node --config "$W/node.yaml" > "$W/logs/node.log" 2>&1 &
pids+=($!); node=$!
for _ in $(seq 100); do curl -sk -o /dev/null https://127.0.0.1:18744/small && break; sleep 0.1; done
grep -h "TLS by" "$W/logs/node.log"
for u in https://127.0.0.1:18743/small https://127.0.0.1:18744/small; do
  [ "$(curl -sk -o /dev/null -w '%{http_code}%{size_download}' "$u")" = 2001024 ] || { echo "bad answer from $u" >&2; exit 1; }
done
nginx_worker=$(pgrep -P "$(cat "$W/logs/nginx.pid")" | head -1)

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, in clock ticks
# CPU ticks of the JVM's JIT compiler threads: while they run, the node is still warming up
jit() { local t s=0; for t in /proc/$1/task/*; do case $(cat "$t/comm") in C1\ Comp*|C2\ Comp*) s=$(( s + $(awk '{print $14 + $15}' "$t/stat") ));; esac; done; echo $s; }
hz=$(getconf CLK_TCK)
load() { cut -d' ' -f1 /proc/loadavg; }
# bench URL PID keep|resumed|full -> "rps server-cpu% server-us/req client-us/req errors"
bench() {
  local extra=() pre=""; [ "$3" != keep ] && extra=(-H "Connection: close"); [ "$3" = full ] && pre=$FRESH
  local before; before=$(cpu "$2")
  local out; out=$( { /usr/bin/time -f "CLIENT %U %S" $pre $LG wrk -t1 -c"$CONNS" -d"${DUR}s" "${extra[@]}" "$1"; } 2>&1)
  local after; after=$(cpu "$2")
  awk -v t=$((after - before)) -v hz="$hz" -v d="$DUR" '
    /requests in/ {n = $1} /Requests\/sec/ {rps = $2} /^CLIENT/ {c = $2 + $3}
    /Socket errors|Non-2xx/ {e = e " " $0}
    END {printf "%.0f %.0f%% %.0f %.0f%s", rps, t * 100 / hz / d, n ? t * 1e6 / hz / n : 0, n ? c * 1e6 / n : 0, e}' <<<"$out"
}

# Warm-up: the JIT compiles for a minute or more on a busy machine, and its compiler threads share CPU 0
# with the event loop; rounds start only once a warm-up cycle leaves them (almost) idle.
cycle() {
  $LG wrk -t1 -c"$CONNS" -d5s https://127.0.0.1:18744/small >/dev/null 2>&1 || true
  $FRESH $LG wrk -t1 -c"$CONNS" -d5s -H "Connection: close" https://127.0.0.1:18744/small >/dev/null 2>&1 || true
  $LG wrk -t1 -c"$CONNS" -d3s -H "Connection: close" https://127.0.0.1:18744/small >/dev/null 2>&1 || true
  $FRESH $LG wrk -t1 -c"$CONNS" -d3s -H "Connection: close" https://127.0.0.1:18746/small >/dev/null 2>&1 || true
}
for w in $(seq "${WARM_MAX:-12}"); do
  j=$(jit "$node"); cycle; j=$(( $(jit "$node") - j ))
  echo "warm-up cycle $w: JIT compiler threads used $(( j * 1000 / hz )) ms of CPU in 16 s"
  [ "$w" -ge 2 ] && [ $(( j * 1000 / hz )) -lt 200 ] && break
done

echo "load average before the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
jit0=$(jit "$node")
: > "$W/rounds.txt"
for r in $(seq "$ROUNDS"); do
  for t in "full-hs-ecdsa 18743 18744 full" "keepalive-ecdsa 18743 18744 keep" "full-hs-rsa 18745 18746 full" \
           "resumed-hs-ecdsa 18743 18744 resumed"; do
    set -- $t
    # Which server goes first alternates by round, so a machine getting busier or quieter favours neither.
    if [ $(( r % 2 )) -eq 1 ]; then
      n=$(bench "https://127.0.0.1:$2/small" "$nginx_worker" "$4"); f=$(bench "https://127.0.0.1:$3/small" "$node" "$4")
    else
      f=$(bench "https://127.0.0.1:$3/small" "$node" "$4"); n=$(bench "https://127.0.0.1:$2/small" "$nginx_worker" "$4")
    fi
    echo "round $r $1 nginx $n | flotilla $f | load $(load)" | tee -a "$W/rounds.txt"
  done
done
echo "load average after the rounds: $(cut -d' ' -f1-3 /proc/loadavg); JIT CPU during the rounds: $(( ($(jit "$node") - jit0) * 1000 / hz )) ms"

med() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
col() { awk -v t="$1" -v s="$2" -v k="$3" '$3 == t {for (i = 1; i <= NF; i++) if ($i == s) print $(i + k)}' "$W/rounds.txt"; }
echo; echo "medians over $ROUNDS rounds (ratio = flotilla / nginx; us/req = server CPU per request, i.e. per handshake"
echo "for handshakes; wrk us/req = the client's CPU per request, which bounds handshakes/s when it nears 100%):"
for test in full-hs-ecdsa full-hs-rsa resumed-hs-ecdsa keepalive-ecdsa; do
  nm=$(col "$test" nginx 1 | med); fm=$(col "$test" flotilla 1 | med)
  printf '%-17s nginx %7s/s %4s us/req (wrk %4s)  flotilla %7s/s %4s us/req (wrk %4s)  ratio %s\n' "$test" \
    "$nm" "$(col "$test" nginx 3 | med)" "$(col "$test" nginx 4 | med)" \
    "$fm" "$(col "$test" flotilla 3 | med)" "$(col "$test" flotilla 4 | med)" \
    "$(awk -v a="$fm" -v b="$nm" 'BEGIN {printf "%.2f", a / b}')"
done | tee "$W/summary.txt"
