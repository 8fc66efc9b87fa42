#!/usr/bin/env bash
# The fleet's shared cache (issue 6): hit throughput when the entry lives on another node, near cache
# cold and warm, and the hit ratio of a 3-node fleet against 3 independent nodes for the same traffic.
#
#   loadtest/bench/run-fleet.sh     N=20000 ROUNDS=3 DUR=8 CONNS=50 K=10000 REQS=30000 PAR=8 by default
#
# Three node processes (a, b, c; 1 event loop each, bin/flotilla as shipped, near_cache 256m) form
# one fleet on loopback, in front of an NGINX origin that answers every path with the same 1 KiB
# body and "Cache-Control: public, max-age=3600". Every request carries "Host: bench.test" (the
# cache key holds the authority, and each node listens on its own port here).
#  1. Remote hits. Each round, N new keys are stored through a (one wrk pass), then, with the measured
#     node pinned to CPU 0 and wrk (-t1, a Lua script walking /rR/1../rR/N) pinned to CPU 1:
#       b cold   first pass over the N keys on b: each request a get from the owning member
#       b warm   DUR seconds over the same keys on b: near-cache hits
#       a own    first pass on a over the keys a stored itself (a put leaves the near cache empty,
#                so this is also a get from the owner, local for about 1/3 of the keys)
#       a warm   DUR seconds on a
#     The other nodes and the origin are not pinned. Hits/misses are read from each node's /cache,
#     and the CPU of the measured node and of the other two (utime+stime) is shown per request.
#  2. Hit ratio. One request stream (REQS requests over K keys, Zipf s=1 and uniform, seeded) is
#     sent round-robin over the three nodes (request i to node i mod 3, curl with PAR requests in
#     flight per node) to the fleet, then to three independent nodes (no cluster section, same ports,
#     each its own local cache). Hits and misses from every node's /cache, origin requests from the
#     origin's access log.
#  3. Reference: on one independent node, storing misses (alone-fill: N new keys, as fleet-fill does
#     through a in part 1) and local hits (DUR seconds over the N keys it stored), per round.
#  4. Mixed workload (issue 11's "capacity that grows"): Zipf keys (s=1 over MK keys), one key in five
#     a 64 KiB body and the rest 1 KiB, one wrk (-t1 -c8, a Lua script drawing the keys, seeded per
#     node) per node of the fleet at once for DUR seconds after a warm-up of the same stream, then the
#     same on one lone node: CPU per request summed over every node of the fleet against the lone
#     node's (target: at most 1.25x), and each setup's hit ratio over the measured pass.
#  5. Capacity pooling: every node's cache.max_size CAP (near cache NEAR), a uniform stream over CK
#     keys whose bodies add up to more than one node's CAP but less than the fleet's (3 CAP, each entry
#     held twice with its backup: 1.5 CAP of distinct entries). Two passes of the same stream,
#     round-robin over the nodes; the second pass's hit ratio, fleet against independent nodes.
# fleet-fill (part 1) and alone-fill are the issue-11 miss ratio: same origin, same key pattern.
# The fleet runs with a fleet key (KEY=0: without), as a fleet beyond loopback must: member links
# encrypted, values sealed. PARTS selects parts (default "1 2 3 4 5"). THR=1: part 4 also prints the
# CPU per request by thread kind (event loop, Hazelcast, GC, JIT...), summed over the setup's nodes.
# After each fill the script waits 5 s and checks that b hits /rR/1: it has not always (see
# docs/benchmarks.md, issue 6); the hits and misses of every pass are printed, so that shows there.
# Ports, 127.0.0.1 only: 18800 origin, 18811-18813 listeners, 18801-18803 admin, 18821-18823
# Hazelcast, 18831-18833 gossip. Results: /tmp/flotilla-fleet-bench/summary.txt. Only processes this
# script started are stopped, by pid.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/flotilla-fleet-bench
N=${N:-20000}; ROUNDS=${ROUNDS:-3}; DUR=${DUR:-8}; CONNS=${CONNS:-50}
K=${K:-10000}; REQS=${REQS:-30000}; PAR=${PAR:-8}; PARTS=${PARTS:-1 2 3 4 5}; KEY=${KEY:-1}
MK=${MK:-20000}; BIG=${BIG:-5}; WARM=${WARM:-$DUR}; CAP=${CAP:-16m}; NEAR=${NEAR:-2m}; CK=${CK:-12000}
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
HOST="Host: bench.test"
for c in nginx wrk curl; do command -v $c >/dev/null || { echo "needs $c (apt-get install nginx wrk curl)" >&2; exit 1; }; done
[ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -B -DskipTests package)
for port in 18800 1880{1..3} 1881{1..3} 1882{1..3} 1883{1..3}; do
  if [ -n "$(ss -Hltn "sport = :$port")" ]; then echo "port $port busy, aborting" >&2; exit 1; fi; done

declare -A PID
stop_all() {
  local p; for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -s "$W/run/origin.pid" ] && kill "$(cat "$W/run/origin.pid")" 2>/dev/null || true
  for p in "${PID[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
}
trap stop_all EXIT; trap 'exit 130' INT TERM
rm -rf "$W"; mkdir -p "$W"/{conf,www,logs,run,tmp,res}
head -c 1024 /dev/zero | tr '\0' a > "$W/www/obj"
head -c 65536 /dev/zero | tr '\0' b > "$W/www/big"
[ "$KEY" = 0 ] || JAVA_OPTS= "$top/bin/flotilla" fleet-key > "$W/fleet.key"   # no JVM logging in the key file

cat > "$W/conf/origin.conf" <<NGX
worker_processes 1; worker_rlimit_nofile 16384; pid $W/run/origin.pid; error_log $W/logs/origin.err warn;
events { worker_connections 8192; }
http {
  log_format uri '\$request_uri'; access_log $W/logs/origin.access uri;
  keepalive_timeout 60s; keepalive_requests 1000000; default_type application/octet-stream;
  client_body_temp_path $W/tmp/cb; proxy_temp_path $W/tmp/px; fastcgi_temp_path $W/tmp/fc;
  uwsgi_temp_path $W/tmp/uw; scgi_temp_path $W/tmp/sc;
  server { listen 127.0.0.1:18800 backlog=4096; root $W/www;
    location /L/ { rewrite ^ /big break; add_header Cache-Control "public, max-age=3600"; }
    location / { rewrite ^ /obj break; add_header Cache-Control "public, max-age=3600"; } }
}
NGX
nginx -p "$W/" -e "$W/logs/origin.err" -c "$W/conf/origin.conf"
origin_requests() { wc -l < "$W/logs/origin.access"; }

num() { case $1 in a) echo 1;; b) echo 2;; c) echo 3;; esac; }
node_conf() {  # $1 name, $2 "fleet" or "alone", $3 extra YAML (a cache section)
  local i; i=$(num "$1")
  cat > "$W/conf/$1-$2.yaml" <<YAML
node: {name: $1, admin: '127.0.0.1:1880$i', event_loops: 1, drain_grace: 0s}
listeners: [{bind: '127.0.0.1:1881$i'}]
upstreams: {origin: {servers: ['127.0.0.1:18800']}}
routes: [{path: /, upstream: origin, cache: true}]
headers: {request_id: false}
${3:-}
YAML
  if [ "$2" = fleet ]; then
    local peers=""; [ "$1" = a ] || peers=", peers: ['127.0.0.1:18831']"
    [ "$KEY" = 0 ] || peers="$peers, key_file: '$W/fleet.key'"
    echo "cluster: {name: fleetbench, bind: '127.0.0.1:1882$i', gossip_port: 1883$i, expected_size: 3, near_cache: ${4:-256m}$peers}" \
      >> "$W/conf/$1-$2.yaml"
  fi
}
start_node() {  # $1 name, $2 fleet|alone, $3 extra YAML, $4 near cache; waits for the start line
  node_conf "$1" "$2" "${3:-}" "${4:-}"
  "$top/bin/flotilla" node --config "$W/conf/$1-$2.yaml" > "$W/logs/$1-$2.log" 2>&1 &
  PID[$1]=$!
  for _ in $(seq 600); do grep -qs "serving on" "$W/logs/$1-$2.log" && return 0
    kill -0 "${PID[$1]}" 2>/dev/null || break; sleep 0.1; done
  echo "node $1 did not start:" >&2; cat "$W/logs/$1-$2.log" >&2; exit 1
}
stop_nodes() {
  local n; for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; done
  for n in "${!PID[@]}"; do while kill -0 "${PID[$n]}" 2>/dev/null; do sleep 0.2; done; unset "PID[$n]"; done
}
admin() { curl -s "http://127.0.0.1:1880$(num "$1")$2"; }
event() { admin "$1" /cache | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }   # $1 node, $2 event name
url() { echo "http://127.0.0.1:1881$(num "$1")"; }
ticks() { local s=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && s=$((s + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'))); done; echo $s; }
HZ=$(getconf CLK_TCK)
# threads PID: one line per thread, "tid ticks name" (names with spaces joined by _), sorted for join
threads() { local t l r; for t in /proc/$1/task/*; do l=$(cat "$t/stat" 2>/dev/null) || continue
  r=${l##*) }; set -- $r; l=${l#*(}; l=${l%)*}; echo "${t##*/} $((${12} + ${13})) ${l// /_}"; done | sort; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# A wrk script walking /PREFIX/1../PREFIX/COUNT in order, wrapping; with "once" the thread stops
# after COUNT responses and touches a flag file, on which walk() interrupts wrk (wrk's main thread
# would otherwise sleep out the whole -d), so wrk's req/s is over the pass alone.
cat > "$W/walk.lua" <<'LUA'
local prefix, count, once, flag, i, done = "/", 1, false, nil, 0, 0
function init(args) prefix = args[1]; count = tonumber(args[2]); once = args[3] == "once"; flag = args[4] end
function request() i = i % count + 1; return wrk.format("GET", prefix .. i) end
function response(status, headers, body)
  done = done + 1
  if once and done == count then io.open(flag, "w"):close(); wrk.thread:stop() end
end
LUA
walk() {  # NODE PREFIX once|SECONDS OUT
  local d=$3 arg=loop flag="$W/run/walk.done"
  [ "$3" = once ] && { d=300; arg=once; }
  rm -f "$flag"
  taskset -c 1 wrk -t1 -c"$CONNS" -d"${d}s" --latency -H "$HOST" -s "$W/walk.lua" "$(url "$1")" -- "$2" "$N" $arg "$flag" > "$4" &
  local w=$!
  if [ "$3" = once ]; then while kill -0 $w 2>/dev/null && [ ! -e "$flag" ]; do sleep 0.02; done; kill -INT $w 2>/dev/null || true; fi
  wait $w || true
}
ms='function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }'
# run_wrk LABEL ROUND NODE PREFIX once|DURATION OTHER_NODES...: one measured wrk run, one line to rounds.txt
run_wrk() {
  local label=$1 r=$2 n=$3 prefix=$4 mode=$5; shift 5
  local others=() o; for o in "$@"; do others+=("${PID[$o]}"); done
  local out="$W/res/$label.r$r.txt"
  local h0 m0 c0 o0 la; h0=$(event "$n" hit); m0=$(event "$n" miss)
  taskset -a -p -c 0 "${PID[$n]}" > /dev/null 2>&1 || true   # threads may come and go meanwhile
  c0=$(ticks "${PID[$n]}"); o0=$(ticks "${others[@]}")
  walk "$n" "$prefix" "$mode" "$out"
  local c1 o1; c1=$(ticks "${PID[$n]}"); o1=$(ticks "${others[@]}"); la=$(cut -d' ' -f1 /proc/loadavg)
  taskset -a -p -c 0-1 "${PID[$n]}" > /dev/null 2>&1 || true
  local hits misses; hits=$(( $(event "$n" hit) - h0 )); misses=$(( $(event "$n" miss) - m0 ))
  awk -v l="$label" -v r="$r" -v c=$((c1 - c0)) -v o=$((o1 - o0)) -v hz="$HZ" -v h="$hits" -v m="$misses" -v la="$la" "$ms"'
    /Requests\/sec/ {rps = $2} /^ +50%/ {p50 = ms($2)} /^ +99%/ {p99 = ms($2)} / requests in / {n = $1}
    /Non-2xx/ {bad += $NF} /Socket errors/ {gsub(",", ""); bad += $4 + $6 + $8 + $10}
    END {printf "%s %s %.0f %.3f %.3f %d %.1f %.1f %d %d %d %s\n", l, r, rps, p50, p99, n, c / hz * 1e6 / n, o / hz * 1e6 / n, h, m, bad, la}' \
    "$out" | tee -a "$W/rounds.txt"
}
# fill NODE PREFIX: store N keys through NODE (not measured)
fill() { walk "$1" "$2" once "$W/res/fill-$1${2//\//_}.txt"
  echo "fill through $1 of $2: $(awk '/Requests\/sec/ {print $2}' "$W/res/fill-$1${2//\//_}.txt") req/s (misses, stored)" | tee -a "$W/fills.txt"; }
hit_on() { curl -s -o /dev/null -D - -H "$HOST" "$(url "$1")$2" | grep -qi '^Cache-Status: flotilla; hit'; }

echo "== $(nproc) CPUs, load average $(loadavg) at start; N=$N ROUNDS=$ROUNDS DUR=${DUR}s CONNS=$CONNS K=$K REQS=$REQS" | tee "$W/setup.txt"

start_fleet() {  # $1 extra YAML, $2 near cache: a, b, c as one fleet, checked
  start_node a fleet "${1:-}" "${2:-}"; start_node b fleet "${1:-}" "${2:-}"; start_node c fleet "${1:-}" "${2:-}"   # a first: b and c join through it
  local n
  for n in a b c; do
    for _ in $(seq 600); do [ "$(admin $n /fleet | grep -o '"name":' | wc -l)" -eq 3 ] && break; sleep 0.2; done
  done   # one "name" per member
  for n in a b c; do [ "$(admin $n /fleet | grep -o '"name":' | wc -l)" -eq 3 ] || { echo "fleet did not form: $(admin $n /fleet)" >&2; exit 1; }; done
  curl -s -o /dev/null -H "$HOST" "$(url a)/check"; sleep 0.5
  hit_on b /check || { echo "b does not hit what a stored" >&2; exit 1; }
}
echo "# label round rps p50_ms p99_ms requests node_cpu_us/req others_cpu_us/req hits misses errors load1" | tee "$W/rounds.txt"
: > "$W/ratio.txt"; : > "$W/fills.txt"; : > "$W/mixed.txt"
# ---- hit ratio ---------------------------------------------------------------------------------
# One seeded stream per distribution: request i goes to node i mod 3; the same files for both setups.
for dist in zipf uniform; do
  awk -v k="$K" -v n="$REQS" -v dist=$dist 'BEGIN {
    srand(6); for (i = 1; i <= k; i++) { t += 1 / i; c[i] = t }
    for (j = 0; j < n; j++) {
      if (dist == "uniform") x = int(rand() * k) + 1
      else { u = rand() * t; lo = 1; hi = k; while (lo < hi) { m = int((lo + hi) / 2); if (c[m] < u) lo = m + 1; else hi = m }; x = lo }
      print j % 3, x } }' > "$W/stream-$dist.txt"
done
# ratio_run SETUP DIST: sends the stream, prints one line to ratio.txt
ratio_run() {
  local setup=$1 dist=$2 n i o0 pids=() h=0 m=0 hn mn col=0
  declare -A h0 m0
  for n in a b c; do h0[$n]=$(event $n hit); m0[$n]=$(event $n miss); done
  o0=$(origin_requests)
  for n in a b c; do
    i=$(( $(num $n) - 1 ))
    awk -v i=$i -v u="$(url $n)" -v d="${dist%[0-9]}" '$1 == i {printf "url = \"%s/%s/%d\"\noutput = \"/dev/null\"\n", u, d, $2}' \
      "$W/stream-$dist.txt" > "$W/res/curl-$setup-$dist-$n.cfg"
    curl -s --no-progress-meter -Z --parallel-max "$PAR" -H "$HOST" -K "$W/res/curl-$setup-$dist-$n.cfg" > /dev/null 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  sleep 1
  local per=""
  for n in a b c; do hn=$(( $(event $n hit) - h0[$n] )); mn=$(( $(event $n miss) - m0[$n] ))
    h=$((h + hn)); m=$((m + mn)); per="$per $n:$hn/$mn"; done
  awk -v s=$setup -v d=$dist -v h=$h -v m=$m -v o=$(( $(origin_requests) - o0 )) -v per="$per" -v k="$K" -v n="$REQS" \
    -v distinct="$(awk '{print $2}' "$W/stream-$dist.txt" | sort -u | wc -l)" \
    'BEGIN {printf "%s %s requests %d keys %d distinct %d hits %d misses %d hit_ratio %.4f origin %d per_node(hits/misses)%s\n",
      s, d, n, k, distinct, h, m, h / (h + m), o, per}' | tee -a "$W/ratio.txt"
}

# ---- the fleet: remote hits (1), hit ratio (2) ----------------------------------------------------
if part 1 || part 2; then
  start_fleet
  if part 1; then
    # JIT warm-up of the paths measured (stores, remote gets, near hits), on keys not used later.
    # The miss path is warmed too (fleet-fill is measured): three fills, so every node has stored and
    # owned, before the first measured one.
    fill a /warma/; fill b /warmb/; fill c /warmc/
    for n in b c a; do walk $n /warma/ 4 /dev/null; done
    for r in $(seq "$ROUNDS"); do
      run_wrk fleet-fill "$r" a "/r$r/" once b c; sleep 5   # the stores are asynchronous; see docs/benchmarks.md for why 5 s
      hit_on b "/r$r/1" || echo "round $r: b's first read of /r$r/1, 5 s after a's fill: not a hit" | tee -a "$W/odd.txt"
      run_wrk b-cold "$r" b "/r$r/" once a c
      run_wrk b-warm "$r" b "/r$r/" "$DUR" a c
      run_wrk a-own-first "$r" a "/r$r/" once b c
      run_wrk a-warm "$r" a "/r$r/" "$DUR" b c
    done
  fi
  if part 2; then for dist in zipf uniform; do ratio_run fleet $dist; done; fi
  stop_nodes
  if part 2; then
    start_node a alone; start_node b alone; start_node c alone
    for dist in zipf uniform; do ratio_run independent $dist; done
    stop_nodes
  fi
fi

# ---- a lone node: storing misses and local hits (3) ------------------------------------------------
if part 3; then
  start_node b alone
  fill b /warmb/; walk b /warmb/ 4 /dev/null   # JIT warm-up on its own keys
  for r in $(seq "$ROUNDS"); do
    run_wrk alone-fill "$r" b "/l$r/" once
    run_wrk alone-local "$r" b "/l$r/" "$DUR"
  done
  stop_nodes
fi

# ---- mixed workload: CPU per request summed over the fleet against a lone node (4) -------------------
cat > "$W/mixed.lua" <<'LUA'
-- Zipf (s=1) over K keys, drawn from a seeded generator; key i has a 64 KiB body when i % BIG == 0 (BIG 0: none)
local k, cdf, total, big = 1, {}, 0, 5
function init(args)
  k = tonumber(args[1]); math.randomseed(tonumber(args[2])); big = tonumber(args[3])
  for i = 1, k do total = total + 1 / i; cdf[i] = total end
end
function request()
  local u, lo, hi = math.random() * total, 1, k
  while lo < hi do local m = math.floor((lo + hi) / 2); if cdf[m] < u then lo = m + 1 else hi = m end end
  return wrk.format("GET", (big > 0 and lo % big == 0 and "/L/" or "/s/") .. lo)
end
LUA
# mixed_run SETUP NODES...: a warm-up pass of WARM seconds (default DUR; three JVMs on two cores need a
# minute or more before their JIT settles), then DUR seconds measured with one wrk per node at once
mixed_run() {
  local setup=$1; shift
  local n pids=() c0 c1 h0=0 m0=0 h1=0 m1=0 reqs=0 seed=1
  for n in "$@"; do
    taskset -c 1 wrk -t1 -c8 -d"$WARM"s -H "$HOST" -s "$W/mixed.lua" "$(url $n)" -- "$MK" $seed "$BIG" > /dev/null & pids+=($!); seed=$((seed + 1))
  done
  for n in "${pids[@]}"; do wait "$n" || true; done; pids=()
  for n in "$@"; do h0=$((h0 + $(event $n hit))); m0=$((m0 + $(event $n miss))); done
  local all=(); for n in "$@"; do all+=("${PID[$n]}"); done
  c0=$(ticks "${all[@]}"); seed=1
  [ -z "${THR:-}" ] || for n in "$@"; do threads "${PID[$n]}" > "$W/thr0-$n"; done
  for n in "$@"; do
    taskset -c 1 wrk -t1 -c8 -d"$DUR"s --latency -H "$HOST" -s "$W/mixed.lua" "$(url $n)" -- "$MK" $seed "$BIG" > "$W/res/mixed-$setup-$n.txt" &
    pids+=($!); seed=$((seed + 1))
  done
  for n in "${pids[@]}"; do wait "$n" || true; done
  c1=$(ticks "${all[@]}")
  [ -z "${THR:-}" ] || for n in "$@"; do threads "${PID[$n]}" > "$W/thr1-$n"; done
  for n in "$@"; do h1=$((h1 + $(event $n hit))); m1=$((m1 + $(event $n miss)))
    reqs=$((reqs + $(awk '/ requests in / {print $1}' "$W/res/mixed-$setup-$n.txt"))); done
  awk -v s="$setup" -v c=$((c1 - c0)) -v hz="$HZ" -v n=$reqs -v h=$((h1 - h0)) -v m=$((m1 - m0)) -v d="$DUR" -v la="$(loadavg)" \
    'BEGIN {printf "%s requests %d req/s %.0f cpu_us/req(all nodes) %.1f hit_ratio %.3f load %s\n", s, n, n / d, c / hz * 1e6 / n, h / (h + m), la}' \
    | tee -a "$W/mixed.txt"
  if [ -n "${THR:-}" ]; then  # CPU per request by thread kind, summed over the setup's nodes
    for n in "$@"; do join "$W/thr0-$n" "$W/thr1-$n"; done \
      | awk -v n=$reqs -v hz="$HZ" '{d = $4 - $2; if (d > 0) {sub(/[-#_0-9.,]+$/, "", $3); a[$3] += d}}
          END {for (k in a) printf "    %8.1f us/req %s\n", a[k] / hz * 1e6 / n, k}' | sort -rn | head -12 | tee -a "$W/mixed.txt"
  fi
  for n in "$@"; do echo "  $setup $n: $(admin $n /cache | sed 's/.*"events":\({[^}]*}\).*"fleet_operations":\({[^}]*}\).*/\1 \2/')"; done \
    | tee -a "$W/mixed.txt"
}
if part 4; then
  start_fleet; mixed_run fleet ${MIXED_NODES:-a b c}; stop_nodes   # MIXED_NODES=a: the same load through one node of the fleet
  start_node b alone; mixed_run alone b; stop_nodes
fi

# ---- capacity pooling (5) ------------------------------------------------------------------------
if part 5; then
  # Two passes drawn apart (another seed), so a key's requests land on other nodes in the second.
  for pass in 1 2; do
    awk -v k="$CK" -v n=$((CK * 3)) -v seed=$((8 + pass)) 'BEGIN { srand(seed); for (j = 0; j < n; j++) print j % 3, int(rand() * k) + 1 }' \
      > "$W/stream-pool$pass.txt"
  done
  pooled() {  # SETUP: the first pass fills, the second one's line is kept
    REQS=$((CK * 3)) K=$CK ratio_run "$1-warm" pool1 > /dev/null; sed -i '$d' "$W/ratio.txt"; REQS=$((CK * 3)) K=$CK ratio_run "$1" pool2
    local n; for n in a b c; do echo "  $1 $n holds $(admin $n /cache | sed 's/,"events".*//')"; done | tee -a "$W/ratio.txt"; }
  start_fleet "cache: {max_size: $CAP}" "$NEAR"; pooled fleet-pool; stop_nodes
  start_node a alone "cache: {max_size: $CAP}"; start_node b alone "cache: {max_size: $CAP}"; start_node c alone "cache: {max_size: $CAP}"
  pooled independent-pool; stop_nodes
fi

med() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
{
  cat "$W/setup.txt"
  echo "load average at the end $(loadavg); medians over $ROUNDS rounds; wrk -t1 -c$CONNS on CPU 1, measured node on CPU 0"
  printf "%-14s %9s %8s %8s %14s %16s %9s\n" test req/s p50_ms p99_ms node_us/req others_us/req hit%
  for t in fleet-fill alone-fill b-cold b-warm a-own-first a-warm alone-local; do
    col() { awk -v t=$t -v c="$1" '$1 == t {print $c}' "$W/rounds.txt" | med; }
    printf "%-14s %9.0f %8.2f %8.2f %14.1f %16.1f %9.1f\n" $t "$(col 3)" "$(col 4)" "$(col 5)" "$(col 7)" "$(col 8)" \
      "$(awk -v t=$t '$1 == t {h += $9; m += $10} END {print (h + m) ? 100 * h / (h + m) : 0}' "$W/rounds.txt")"
  done
  cat "$W/fills.txt"; cat "$W/odd.txt" 2>/dev/null || true
  echo "hit ratio, same stream round-robin over 3 nodes (pool: the second pass, CAP=$CAP per node, CK=$CK keys):"
  cat "$W/ratio.txt"
  echo "mixed workload (Zipf over $MK keys, 1 in 5 of 64 KiB), CPU summed over the setup's nodes:"
  cat "$W/mixed.txt"
} | tee "$W/summary.txt"
