#!/usr/bin/env bash
# A 3-node fleet on loopback for the Gatling simulations, behind HAProxy as the L4 front (mode tcp,
# send-proxy-v2, health checks on each node's admin /healthz), and the hooks the simulations call.
#
#   loadtest/fleet.sh up [N]      the load origin, N nodes (default 3) as one fleet, and the front
#   loadtest/fleet.sh nodes N     only nodes 1..N in rotation (others in maintenance); open front
#                                 connections are closed so clients reconnect over the new set
#   loadtest/fleet.sh drain I     POST /drain to node I (graceful: /healthz 503, the front stops sending)
#   loadtest/fleet.sh kill I      SIGKILL node I
#   loadtest/fleet.sh start I     start node I again (after a drain or kill)
#   loadtest/fleet.sh status      members, the front's view and the origin's request counts
#   loadtest/fleet.sh cpu         CPU seconds (user+system) used so far by the origin, each node, HAProxy
#   loadtest/fleet.sh record      every simulation in turn against this fleet, for docs/benchmarks.md
#   loadtest/fleet.sh down        stops everything this script started (by pid)
#   loadtest/fleet.sh cert        the self-signed certificate and session ticket key of node.yaml's TLS listener
#
# Ports (127.0.0.1 only, the 19100-19199 range): 19100 front HTTP, 19101 front HTTPS, 19102 origin,
# node I: 1911I HTTP, 1912I HTTPS, 1913I admin, 1914I Hazelcast, 1915I gossip; 19199 HAProxy's runtime
# API. Node configs are loadtest/config/node.yaml with those ports, PROXY protocol from the front and a
# cluster section. State, configs and logs: /tmp/flotilla-loadtest (FLEET_DIR).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
W=${FLEET_DIR:-/tmp/flotilla-loadtest}
FRONT=19100; FRONT_TLS=19101; ORIGIN=19102; API=19199
node_port() { echo $((19110 + $1)); }
node_tls() { echo $((19120 + $1)); }
node_admin() { echo $((19130 + $1)); }

die() { echo "fleet.sh: $*" >&2; exit 1; }
pid_of() { [ -s "$W/run/$1.pid" ] && cat "$W/run/$1.pid"; }
alive() { local p; p=$(pid_of "$1") && kill -0 "$p" 2>/dev/null; }

# haproxy_cmd CMD: one command to HAProxy's runtime API (TCP, loopback), its answer on stdout.
haproxy_cmd() {
  exec 3<>/dev/tcp/127.0.0.1/$API || die "HAProxy's runtime API on :$API does not answer"
  printf '%s\n' "$1" >&3
  timeout 5 cat <&3 || true
  exec 3>&-
}

await() { # await SECONDS WHAT COMMAND...: retries COMMAND every 0.2 s
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what"
    sleep 0.2
  done
}

cert() {
  local dir="$top/loadtest/config/tls"
  mkdir -p "$dir"
  [ -s "$dir/ticket-keys" ] || openssl rand -base64 48 >"$dir/ticket-keys"
  [ -s "$dir/loadtest.pem" ] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$dir/loadtest.key" -out "$dir/loadtest.pem" 2>/dev/null
  echo "made $dir/loadtest.pem (self-signed, P-256, for load tests only)"
}

node_config() { # node_config I N
  local i=$1 n=$2
  sed -e "s/name: loadtest,/name: fleet-$i,/" -e "s/drain_grace: 0s/drain_grace: 3s/" \
      -e "s/{bind: 127.0.0.1:19110}/{bind: 127.0.0.1:$(node_port "$i"), proxy_protocol: true, trusted_proxies: [127.0.0.1\/32]}/" \
      -e "s/- bind: 127.0.0.1:19120/- bind: 127.0.0.1:$(node_tls "$i")\n    proxy_protocol: true\n    trusted_proxies: [127.0.0.1\/32]/" \
      -e "s/127.0.0.1:19130/127.0.0.1:$(node_admin "$i")/" \
      -e "s#: tls/#: $top/loadtest/config/tls/#g" \
      "$top/loadtest/config/node.yaml"
  printf 'cluster:\n  name: loadtest\n  bind: 127.0.0.1:%d\n  gossip_port: %d\n  expected_size: %d\n' \
      $((19140 + i)) $((19150 + i)) "$n"
  [ "$i" = 1 ] || printf '  peers: [127.0.0.1:19151]\n'
}

start_node() { # start_node I
  local i=$1
  alive "node$i" && die "node $i is running"
  "$top/bin/flotilla" node --config "$W/conf/node$i.yaml" >"$W/logs/node$i.log" 2>&1 &
  echo $! >"$W/run/node$i.pid"
  await 60 "node $i's /healthz" curl -fsS "http://127.0.0.1:$(node_admin "$i")/healthz"
}

haproxy_config() { # haproxy_config N
  local i servers_http="" servers_tls=""
  for i in $(seq 1 "$1"); do
    servers_http+="    server n$i 127.0.0.1:$(node_port "$i") check port $(node_admin "$i")"$'\n'
    servers_tls+="    server n$i 127.0.0.1:$(node_tls "$i") check port $(node_admin "$i")"$'\n'
  done
  cat <<EOF
global
    stats socket ipv4@127.0.0.1:$API level admin
    log stderr format raw local0 info
    maxconn 8000
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 1s
    retries 3
    option redispatch
    default-server inter 500ms fall 2 rise 2 send-proxy-v2
    option httpchk GET /healthz
    http-check expect status 200
frontend http
    bind 127.0.0.1:$FRONT
    default_backend nodes_http
frontend https
    # one line per connection with the bytes each way (haproxy.log): a resumed TLS handshake sends
    # no certificate, so its connections carry fewer bytes from the node than full ones
    log global
    option tcplog
    bind 127.0.0.1:$FRONT_TLS
    default_backend nodes_tls
backend nodes_http
    balance roundrobin
$servers_http
backend nodes_tls
    balance roundrobin
$servers_tls
EOF
}

up() {
  local n=${1:-3} p i
  command -v haproxy >/dev/null || die "needs haproxy (apt-get install haproxy)"
  for p in $FRONT $FRONT_TLS $ORIGIN $API $(for i in $(seq 1 "$n"); do echo $((19110+i)) $((19120+i)) $((19130+i)) $((19140+i)) $((19150+i)); done); do
    [ -z "$(ss -Hltn "sport = :$p")" ] || die "port $p is busy (fleet.sh down?)"
  done
  [ -f "$top/node/target/flotilla.jar" ] || (cd "$top" && mvn -q -B -DskipTests package)
  cert
  mkdir -p "$W"/{conf,logs,run}
  java -Xmx256m -XX:+UseParallelGC "$top/loadtest/src/test/java/io/flotilla/loadtest/LoadOrigin.java" $ORIGIN 8 \
    >"$W/logs/origin.log" 2>&1 &
  echo $! >"$W/run/origin.pid"
  await 30 "the origin" curl -fsS "http://127.0.0.1:$ORIGIN/healthz"
  for i in $(seq 1 "$n"); do node_config "$i" "$n" >"$W/conf/node$i.yaml"; done
  start_node 1
  for i in $(seq 2 "$n"); do start_node "$i"; done
  for i in $(seq 1 "$n"); do
    await 60 "node $i to see $n members" sh -c "[ \$(curl -fsS http://127.0.0.1:$(node_admin "$i")/fleet | grep -o '\"name\":' | wc -l) -ge $n ]"
  done
  haproxy_config "$n" >"$W/conf/haproxy.cfg"
  haproxy -db -f "$W/conf/haproxy.cfg" >"$W/logs/haproxy.log" 2>&1 &
  echo $! >"$W/run/haproxy.pid"
  await 20 "the front to see every node up" sh -c "[ \$(echo 'show stat' | timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$API; cat >&3; cat <&3' | grep -c '^nodes_[a-z]*,n[0-9],.*,UP,') -ge $((2 * n)) ]"
  echo "fleet up: front http://127.0.0.1:$FRONT https://127.0.0.1:$FRONT_TLS, $n nodes, origin :$ORIGIN ($W)"
}

nodes() { # nodes N: servers 1..N ready, the rest in maintenance; every open front session closed
  local n=$1 i b
  for i in 1 2 3; do
    for b in nodes_http nodes_tls; do
      if [ "$i" -le "$n" ]; then haproxy_cmd "set server $b/n$i state ready" >/dev/null
      else haproxy_cmd "set server $b/n$i state maint" >/dev/null; fi
      haproxy_cmd "shutdown sessions server $b/n$i" >/dev/null
    done
  done
  echo "front: nodes 1..$n in rotation"
}

cpu() {
  local name p
  for name in origin node1 node2 node3 haproxy; do
    p=$(pid_of "$name") || continue
    kill -0 "$p" 2>/dev/null || continue
    awk -v n="$name" -v hz="$(getconf CLK_TCK)" '{ printf "%s %.2f\n", n, ($14 + $15) / hz }' "/proc/$p/stat"
  done
}

status() {
  local i
  for i in 1 2 3; do
    curl -fsS "http://127.0.0.1:$(node_admin "$i")/fleet" 2>/dev/null && echo || echo "node $i: no answer"
  done
  haproxy_cmd "show stat" | awk -F, '/^nodes_/ && $2 != "BACKEND" { print $1 "/" $2 " " $18 }'
  curl -fsS "http://127.0.0.1:$ORIGIN/stats"
}

down() {
  local name p
  for name in haproxy node1 node2 node3 origin; do
    p=$(pid_of "$name") || continue
    kill "$p" 2>/dev/null || true
  done
  for name in haproxy node1 node2 node3 origin; do
    p=$(pid_of "$name") || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null || true
    rm -f "$W/run/$name.pid"
  done
  echo "fleet down"
}

# record: each simulation against the fleet this script runs, with what it asserts for a fleet; the
# summary lines, Gatling's console and each process's CPU per run go to $W/record/.
record() {
  local out="$W/record" sim
  mkdir -p "$out"
  : >"$out/summary.txt"
  gatling() { # gatling NAME SIMULATION -Dknob=value...
    local name=$1 cls=$2; shift 2
    cpu >"$out/$name.cpu-before"
    echo "== $name" | tee -a "$out/summary.txt"
    (cd "$top" && mvn -B -q -pl loadtest gatling:test -Dgatling.simulationClass="io.flotilla.loadtest.$cls" \
        -Dsummary="$out/summary.txt" "$@") >"$out/$name.log" 2>&1 && echo "$name: passed" | tee -a "$out/summary.txt" \
      || echo "$name: FAILED (see $out/$name.log)" | tee -a "$out/summary.txt"
    cpu >"$out/$name.cpu-after"
    awk -v n="$name" 'NR == FNR { before[$1] = $2; next } { printf "%s: %s used %.1f CPU-s\n", n, $1, $2 - before[$1] }' \
      "$out/$name.cpu-before" "$out/$name.cpu-after" | tee -a "$out/summary.txt"
  }
  # Rates sized for the 2-core machine the recorded runs shared with the fleet (docs/benchmarks.md);
  # SLO=... replaces the latency bounds.
  local d=${DURATION:-60s} slo=${SLO:--Dp99=100 -Dp999=500}
  # shellcheck disable=SC2086
  {
  gatling pass-through PassThroughSimulation -Dtarget=http://127.0.0.1:$FRONT -Dduration=$d -Drate=100 $slo
  gatling cache CacheSimulation -Dtarget=http://127.0.0.1:$FRONT -Dduration=$d -Drate=300 $slo
  gatling cold-fill ColdFillSimulation -Dtarget=http://127.0.0.1:$FRONT -Dduration=$d -Drate=100 $slo
  gatling rate-limit RateLimitSimulation -Dtarget=http://127.0.0.1:$FRONT -Dduration=$d -Dslack=${SLACK:-10} $slo
  : >"$W/logs/haproxy.log"
  gatling tls TlsSimulation -Dtarget=https://127.0.0.1:$FRONT_TLS -Dduration=$d -Drate=30 $slo
  # Bytes the nodes sent per TLS connection: a resumed handshake sends no certificate (~500 bytes less
  # for the P-256 one here), and kept-alive connections carry many responses.
  awk '$4 ~ /^nodes_tls/ { b = $6 >= 3000 ? "3000+" : int($6 / 100) * 100 "-" int($6 / 100) * 100 + 99; n[b]++ }
       END { for (b in n) print "tls: " n[b] " connections with " b " bytes from the node" }' \
    "$W/logs/haproxy.log" | sort | tee -a "$out/summary.txt"
  gatling scale-out ScaleOutSimulation -Dtarget=http://127.0.0.1:$FRONT -Dduration=${PHASE:-30s} -Drate=300 $slo \
    -DscaleHook="$top/loadtest/fleet.sh nodes {n}" -DoriginStats=http://127.0.0.1:$ORIGIN/stats
  "$0" nodes 3 >/dev/null
  gatling failover FailoverSimulation -Dtarget=http://127.0.0.1:$FRONT -Dduration=$d -Drate=200 $slo \
    -Dhooks="20s=$top/loadtest/fleet.sh drain 2;40s=$top/loadtest/fleet.sh kill 3"
  }
  echo "summary: $out/summary.txt"
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) up "$@" ;;
  down) down ;;
  nodes) [ $# = 1 ] || die "usage: fleet.sh nodes N"; nodes "$1" ;;
  drain) [ $# = 1 ] || die "usage: fleet.sh drain I"; curl -fsS -X POST "http://127.0.0.1:$(node_admin "$1")/drain"; echo " node $1 draining" ;;
  kill) [ $# = 1 ] || die "usage: fleet.sh kill I"; p=$(pid_of "node$1") || die "node $1 not started here"
        kill -9 "$p"; echo "node $1 (pid $p) killed" ;;
  start) [ $# = 1 ] || die "usage: fleet.sh start I"; start_node "$1" ;;
  status) status ;;
  cpu) cpu ;;
  record) record ;;
  cert) cert ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
