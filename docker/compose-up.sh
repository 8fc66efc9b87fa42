#!/usr/bin/env bash
# Brings up the compose example (docker/compose/compose.yaml): three nodes, the origin, HAProxy in
# front and Prometheus, and Grafana with --grafana (an image from a registry). Builds the images when
# missing and makes the fleet key on first use (docker/compose/fleet.key, not committed); waits until
# the front answers. `docker/compose-up.sh down` removes it all. COMPOSE_PROJECT_NAME names it.
set -euo pipefail
cd "$(dirname "$0")/compose"
compose() { docker-compose -p "${COMPOSE_PROJECT_NAME:-flotilla}" -f compose.yaml "$@"; }
if [ "${1:-}" = down ]; then
  compose down -v --remove-orphans; exit
fi
for image in flotilla/node:latest flotilla/peers:test; do
  docker image inspect "$image" >/dev/null 2>&1 || { ../build-images.sh; break; }
done
# Mode 644: the node runs as its own user (uid 10001) and reads it through the bind mount.
[ -s fleet.key ] || { docker run --rm flotilla/node:latest fleet-key >fleet.key.new && chmod 644 fleet.key.new && mv fleet.key.new fleet.key; }
if [ "${1:-}" = --grafana ]; then compose --profile grafana up -d; else compose up -d; fi
front=$(compose port front 80)
for _ in $(seq 120); do
  if (exec 3<>"/dev/tcp/${front%:*}/${front##*:}" && printf 'GET /cached/hello HTTP/1.0\r\n\r\n' >&3 && grep -q '^HTTP/1.1 200' <&3) 2>/dev/null; then
    echo "compose-up: the fleet answers through the front on http://$front (try: curl -i http://$front/cached/hello)"
    echo "compose-up: Prometheus on http://$(compose port prometheus 9090); stop it all with: docker/compose-up.sh down"
    exit 0
  fi
  sleep 1
done
echo "compose-up: the front did not answer on $front within 2 minutes" >&2; compose ps >&2; exit 1
