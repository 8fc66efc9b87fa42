#!/usr/bin/env bash
# Response compression beside NGINX's gzip, in the same run, same origin, same bodies, same level.
#
#   loadtest/bench/run-gzip.sh        DUR=10 ROUNDS=3 CONNS=50 LEVEL=5 (the defaults; ~3 min)
#
# What runs (127.0.0.1, ports 20601-20604 only; every process started is stopped by pid on exit):
#   origin      nginx, 1 worker, :20601: page1k.html and page64k.html, real text (the project's own
#               docs, as HTML), Content-Length framed; identity only (the proxies do the encoding)
#   nginx-gzip  nginx, 1 worker, :20602: proxy_pass to the origin with upstream keep-alive,
#               gzip on; gzip_comp_level LEVEL; gzip_types text/html; gzip_vary on; gzip_proxied any
#   node        bin/flotilla as shipped (its default JVM options), :20603, one route to the origin,
#               compression: {codings: [gzip], gzip_level: LEVEL}; /cached/ on the same node caches
#               (its stored gzip variant is served without encoding again)
#   nginx-cache nginx, 1 worker, :20604: proxy_cache + gzip: NGINX stores the identity and gzips
#               every hit (the other answer to the question docs/compression.md decides)
# Servers are pinned to CPU 0 and wrk to CPU 1 (taskset), as peers.sh does; each (target, body) is
# visited once per round, round after round, so drift spreads over all. wrk sends
# "Accept-Encoding: gzip" and each response is checked to be gzip before the runs.
# Reports per (target, body): median req/s, server CPU per request (utime+stime of the server's
# processes over the run, divided by requests: the figure to read on a shared machine) and the
# compression ratio (gzip bytes / identity bytes as curl sees them). Output: /tmp/flotilla-gzip/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/flotilla-gzip
DUR=${DUR:-10}; ROUNDS=${ROUNDS:-3}; CONNS=${CONNS:-50}; LEVEL=${LEVEL:-5}
need=""
for c in nginx:nginx wrk:wrk curl:curl taskset:util-linux; do
  command -v "${c%%:*}" >/dev/null || need="$need ${c#*:}"; done
if [ -n "$need" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need
  if [ -d /run/systemd/system ]; then systemctl disable --now nginx 2>/dev/null || true; fi
fi
[ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -DskipTests package)

pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for f in "$W"/run/*.pid; do
    [ -s "$f" ] || continue; p=$(cat "$f")
    if kill -0 "$p" 2>/dev/null && grep -q flotilla-gzip "/proc/$p/cmdline" 2>/dev/null; then kill "$p" || true; fi
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_all EXIT; trap 'exit 130' INT TERM
for port in 20601 20602 20603 20604; do
  if [ -n "$(ss -Hltn "sport = :$port")" ]; then echo "port $port busy, aborting" >&2; exit 1; fi; done
rm -rf "$W"; mkdir -p "$W"/{conf,www,logs,run,tmp,res}

# Bodies: the project's own prose wrapped as HTML, cut to 1 KiB and 64 KiB.
{ echo '<!doctype html><html><head><title>Flotilla</title></head><body><pre>'
  cat "$top"/docs/*.md "$top"/README.md; } > "$W/all.txt"
head -c 1024 "$W/all.txt" > "$W/www/page1k.html"; head -c 65536 "$W/all.txt" > "$W/www/page64k.html"

ngx_conf() {   # $1 name, $2 server block(s)
cat > "$W/conf/$1.conf" <<EOF
worker_processes 1;
pid $W/run/$1.pid;
error_log $W/logs/$1.err warn;
events { worker_connections 8192; }
http {
  access_log off; sendfile on; tcp_nodelay on; keepalive_requests 1000000;
  types { text/html html; } default_type application/octet-stream;
  client_body_temp_path $W/tmp/$1-cb; proxy_temp_path $W/tmp/$1-px; fastcgi_temp_path $W/tmp/$1-fc;
  uwsgi_temp_path $W/tmp/$1-uw; scgi_temp_path $W/tmp/$1-sc;
  upstream origin { server 127.0.0.1:20601; keepalive 64; keepalive_requests 1000000; }
  proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffers 16 8k;
  gzip_comp_level $LEVEL; gzip_types text/html; gzip_vary on; gzip_proxied any; gzip_min_length 256;
$2
}
EOF
}
# expires: a freshness lifetime for the caching targets (Cache-Control: max-age=3600).
ngx_conf origin "  server { listen 127.0.0.1:20601 backlog=4096; root $W/www; gzip off; expires 1h; }"
ngx_conf nginx-gzip "  server { listen 127.0.0.1:20602 backlog=4096; gzip on; location / { proxy_pass http://origin; } }"
ngx_conf nginx-cache "  proxy_cache_path $W/cache levels=1:2 keys_zone=gz:10m max_size=64m inactive=1h use_temp_path=off;
  server { listen 127.0.0.1:20604 backlog=4096; gzip on;
    location / { proxy_pass http://origin; proxy_cache gz; proxy_cache_valid 200 1h; } }"
for n in origin nginx-gzip nginx-cache; do taskset -c 0 nginx -c "$W/conf/$n.conf" -e "$W/logs/$n.err"; done

cat > "$W/node.yaml" <<YAML
listeners:
  - bind: 127.0.0.1:20603
upstreams:
  origin:
    servers: [127.0.0.1:20601]
compression: {codings: [gzip], gzip_level: $LEVEL}
routes:
  - {path: /cached/, upstream: origin, rewrite: /, cache: true}
  - {path: /, upstream: origin}
YAML
setsid taskset -c 0 "$top/bin/flotilla" node --config "$W/node.yaml" > "$W/logs/node.log" 2>&1 &
node=$!; pids+=("$node")
for _ in $(seq 150); do curl -s -o /dev/null http://127.0.0.1:20603/page1k.html && break; sleep 0.1; done
kill -0 "$node" 2>/dev/null || { echo "the node did not start:" >&2; cat "$W/logs/node.log" >&2; exit 1; }

server_pids() {   # $1 target: the processes whose CPU counts for it (the proxy; the origin is apart)
  case $1 in
    node|node-cache) echo "$node";;
    nginx-gzip) pgrep -P "$(cat "$W/run/nginx-gzip.pid")"; cat "$W/run/nginx-gzip.pid";;
    nginx-cache) pgrep -P "$(cat "$W/run/nginx-cache.pid")"; cat "$W/run/nginx-cache.pid";;
  esac
}
cpu_ticks() { local t=0 p; for p in $(server_pids "$1"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
url() {   # $1 target, $2 body
  case $1 in
    node) echo "http://127.0.0.1:20603/$2";; node-cache) echo "http://127.0.0.1:20603/cached/$2";;
    nginx-gzip) echo "http://127.0.0.1:20602/$2";; nginx-cache) echo "http://127.0.0.1:20604/$2";;
  esac
}
targets="nginx-gzip node nginx-cache node-cache"
bodies="page1k.html page64k.html"
: > "$W/ratio.txt"
for t in $targets; do for b in $bodies; do
  h=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$(url "$t" "$b")")
  echo "$h" | grep -qi '^content-encoding: gzip' || { echo "$t $b is not gzip:" >&2; echo "$h" >&2; exit 1; }
  gz=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' "$(url "$t" "$b")")
  id=$(curl -s -o /dev/null -w '%{size_download}' "$(url "$t" "$b")")
  echo "$t $b $gz $id" >> "$W/ratio.txt"
done; done
# JIT warm-up for the node, both routes and bodies (a 3 s warm-up left the first measured round slow).
for b in $bodies; do for t in node node-cache; do
  taskset -c 1 wrk -t1 -c"$CONNS" -d6s -H 'Accept-Encoding: gzip' "$(url "$t" "$b")" > /dev/null; done; done

hz=$(getconf CLK_TCK)
: > "$W/rounds.txt"
for r in $(seq "$ROUNDS"); do for b in $bodies; do for t in $targets; do
  before=$(cpu_ticks "$t")
  taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" -H 'Accept-Encoding: gzip' "$(url "$t" "$b")" > "$W/res/$t-$b-$r.txt"
  after=$(cpu_ticks "$t")
  reqs=$(awk '/requests in/ {print $1}' "$W/res/$t-$b-$r.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$W/res/$t-$b-$r.txt")
  echo "$t $b $r $rps $reqs $(( (after - before) ))" >> "$W/rounds.txt"
done; done; done

echo "compression beside NGINX, gzip level $LEVEL, $ROUNDS rounds of ${DUR}s, $CONNS connections (wrk, Accept-Encoding: gzip)"
printf '%-12s %-13s %10s %14s %12s\n' target body 'req/s(med)' 'CPU us/req' 'gzip ratio'
for b in $bodies; do for t in $targets; do
  rps=$(awk -v t="$t" -v b="$b" '$1==t && $2==b {print $4}' "$W/rounds.txt" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu=$(awk -v t="$t" -v b="$b" -v hz="$hz" '$1==t && $2==b {ticks+=$6; reqs+=$5} END {printf "%.1f", ticks / hz * 1e6 / reqs}' "$W/rounds.txt")
  ratio=$(awk -v t="$t" -v b="$b" '$1==t && $2==b {printf "%.3f", $3 / $4}' "$W/ratio.txt")
  printf '%-12s %-13s %10s %14s %12s\n' "$t" "$b" "$rps" "$cpu" "$ratio"
done; done | tee "$W/summary.txt"
