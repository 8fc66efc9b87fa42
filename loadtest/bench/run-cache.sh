#!/usr/bin/env bash
# Cache-hit throughput of a Flotilla node beside NGINX proxy_cache and NGINX serving the same bytes as
# static files, measured in the same run (issue 5's target: above NGINX's cache hits, and within 10%
# of NGINX static).
#
#   loadtest/bench/run-cache.sh            (DUR=10 ROUNDS=3 CONNS=50)
#
# Every server has one worker / one event loop pinned to CPU 0; wrk runs on CPU 1. Ports used, on
# 127.0.0.1 only: 18501 origin (nginx; its files are also the "static" peer), 18502 nginx proxy_cache
# (cache on /dev/shm), 18504 Flotilla with `cache: true`. Objects: /c1k (1 KiB) and /c64k (64 KiB),
# both "Cache-Control: public, max-age=3600", so every measured request is a hit on both caches.
# Results: /tmp/flotilla-cache-bench/summary.txt. Every server started is stopped by pid on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/flotilla-cache-bench; CACHE=/dev/shm/flotilla-cache-bench
DUR=${DUR:-10}; ROUNDS=${ROUNDS:-3}; CONNS=${CONNS:-50}
need=""; for c in nginx:nginx wrk:wrk curl:curl; do command -v "${c%%:*}" >/dev/null || need="$need ${c#*:}"; done
if [ -n "$need" ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need
  if [ -d /run/systemd/system ]; then systemctl disable --now nginx 2>/dev/null || true
  elif [ -s /run/nginx.pid ]; then nginx -s stop 2>/dev/null || true; fi; fi
[ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -DskipTests package)

pids=()
stop_all() {
  local p; for p in "${pids[@]}" $(cat "$W"/run/*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  sleep 0.5; rm -rf "$CACHE"
}
trap stop_all EXIT; trap 'exit 130' INT TERM
for port in 18501 18502 18504; do
  if [ -n "$(ss -Hltn "sport = :$port")" ]; then echo "port $port busy, aborting" >&2; exit 1; fi; done
rm -rf "$W" "$CACHE"; mkdir -p "$W"/{conf,www,logs,run,tmp,res}
head -c 1024 /dev/zero | tr '\0' a > "$W/www/c1k"; head -c 65536 /dev/zero | tr '\0' b > "$W/www/c64k"

ngx() {   # $1 name, $2 server block
cat > "$W/conf/$1.conf" <<NGX
worker_processes 1; worker_rlimit_nofile 16384; pid $W/run/$1.pid; error_log $W/logs/$1.err warn;
events { worker_connections 8192; }
http {
  access_log off; sendfile on; tcp_nodelay on; tcp_nopush off;
  keepalive_timeout 60s; keepalive_requests 1000000; default_type application/octet-stream;
  client_body_temp_path $W/tmp/$1-cb; proxy_temp_path $W/tmp/$1-px; fastcgi_temp_path $W/tmp/$1-fc;
  uwsgi_temp_path $W/tmp/$1-uw; scgi_temp_path $W/tmp/$1-sc;
  upstream origin { server 127.0.0.1:18501; keepalive 64; }
  proxy_http_version 1.1; proxy_set_header Connection "";
$2
}
NGX
}
ngx origin "  server { listen 127.0.0.1:18501 backlog=4096; root $W/www;
    location / { add_header Cache-Control \"public, max-age=3600\"; } }"
ngx nginx-cache "  proxy_cache_path $CACHE levels=1:2 keys_zone=fc:10m max_size=256m inactive=1h use_temp_path=off;
  server { listen 127.0.0.1:18502 backlog=4096;
    location / { proxy_pass http://origin; proxy_cache fc; proxy_cache_lock on;
                 add_header X-Cache \$upstream_cache_status; } }"
cat > "$W/conf/flotilla.yaml" <<YAML
node: {name: cache-bench, event_loops: 1}
listeners: [{bind: 127.0.0.1:18504}]
upstreams: {origin: {servers: [127.0.0.1:18501]}}
routes: [{path: /, upstream: origin, cache: true}]
headers: {request_id: false}
YAML
for n in origin nginx-cache; do taskset -c 0 nginx -p "$W/" -e "$W/logs/$n.err" -c "$W/conf/$n.conf"; done
# setsid: its own session, like the daemonized NGINX (autogroup scheduling shares a CPU by session).
setsid taskset -c 0 "$top/bin/flotilla" node --config "$W/conf/flotilla.yaml" > "$W/logs/flotilla.log" 2>&1 &
pids+=($!)
declare -A PIDS
for n in origin nginx-cache; do m=$(cat "$W/run/$n.pid"); PIDS[$n]="$m $(pgrep -P "$m" | tr '\n' ' ')"; done
PIDS[nginx-static]=${PIDS[origin]}; PIDS[flotilla]=${pids[0]}
ticks() { local f=() p; for p in ${PIDS[$1]}; do [ -r /proc/$p/stat ] && f+=("/proc/$p/stat"); done
  awk '{sub(/^.*\) /, ""); s += $12 + $13} END {print s + 0}' "${f[@]}"; }
HZ=$(getconf CLK_TCK)
declare -A URL=([nginx-static]=http://127.0.0.1:18501 [nginx-cache]=http://127.0.0.1:18502 [flotilla]=http://127.0.0.1:18504)
for t in nginx-static nginx-cache flotilla; do
  for _ in $(seq 100); do curl -s -o /dev/null "${URL[$t]}/c1k" && break; sleep 0.1; done; done
# Fill both caches, then check that what is measured is a hit of the right size.
for t in nginx-cache flotilla; do for p in /c1k /c64k; do curl -s -o /dev/null "${URL[$t]}$p"; done; done
for p in /c1k /c64k; do
  curl -sI "${URL[nginx-cache]}$p" | grep -qi '^X-Cache: HIT' || { echo "nginx-cache: no HIT on $p" >&2; exit 1; }
  curl -sI "${URL[flotilla]}$p" | grep -qi '^Cache-Status: flotilla; hit' || { echo "flotilla: no hit on $p" >&2; exit 1; }
done
# JIT warm-up for the node.
for _ in 1 2 3; do setsid taskset -c 1 wrk -t1 -c"$CONNS" -d5s "${URL[flotilla]}/c1k" > /dev/null
  setsid taskset -c 1 wrk -t1 -c"$CONNS" -d3s "${URL[flotilla]}/c64k" > /dev/null; done

ms='function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }'
echo "# target path round rps p50_ms p99_ms errors cpu_us_per_request" | tee "$W/rounds.txt"
for r in $(seq "$ROUNDS"); do for p in /c1k /c64k; do for t in nginx-static nginx-cache flotilla; do
  out="$W/res/$t${p//\//_}.r$r.txt"
  c0=$(ticks $t)
  setsid taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "${URL[$t]}$p" > "$out"
  c1=$(ticks $t)
  # Server CPU per request (user+system of its processes) holds up better than req/s on a busy machine.
  awk -v t=$t -v p=$p -v r=$r -v c=$((c1 - c0)) -v hz="$HZ" "$ms"' /Requests\/sec/ {rps = $2} /^ +50%/ {p50 = ms($2)}
    /^ +99%/ {p99 = ms($2)} / requests in / {n = $1}
    /Non-2xx/ {bad += $NF} /Socket errors/ {gsub(",", ""); bad += $4 + $6 + $8 + $10}
    END {printf "%s %s %s %s %.3f %.3f %d %.1f\n", t, p, r, rps, p50, p99, bad, c / hz * 1e6 / n}' "$out" | tee -a "$W/rounds.txt"
done; done; done
med() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
{
  echo "== $(nproc) CPUs, nginx $(nginx -v 2>&1 | sed 's/.*\///'), $ROUNDS rounds x ${DUR}s, wrk -t1 -c$CONNS, servers on CPU 0"
  for p in /c1k /c64k; do
    for t in nginx-static nginx-cache flotilla; do
      rps=$(awk -v t=$t -v p=$p '$1 == t && $2 == p {print $4}' "$W/rounds.txt" | med)
      p99=$(awk -v t=$t -v p=$p '$1 == t && $2 == p {print $6}' "$W/rounds.txt" | med)
      cpu=$(awk -v t=$t -v p=$p '$1 == t && $2 == p {print $8}' "$W/rounds.txt" | med)
      printf "%-13s %-6s rps %9.0f  p99_ms %6.2f  cpu_us/req %6.1f\n" "$t" "$p" "$rps" "$p99" "$cpu"
      eval "R_${t//-/_}=$rps"
    done
    awk -v f="$R_flotilla" -v c="$R_nginx_cache" -v s="$R_nginx_static" -v p=$p \
      'BEGIN {printf "ratio %-6s flotilla/nginx-cache %.3f  flotilla/nginx-static %.3f\n", p, f / c, f / s}'
  done
} | tee "$W/summary.txt"
