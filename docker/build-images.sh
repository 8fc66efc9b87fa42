#!/usr/bin/env bash
# Builds the images of the container tests and the compose example, from node/target/flotilla.jar
# (mvn -q -DskipTests package first):
#   flotilla/node:VERSION (and :latest)  a node: jlink'd Java runtime, non-root, health check
#   flotilla/peers:test                  the recording origin, HAProxy, Prometheus (this machine's)
# No registry is needed: the base is flotilla/base:bookworm from build-base.sh, unless BASE names
# another (BASE=debian:bookworm-slim where a registry is reachable). Reruns are quick: the runtime
# is rebuilt only when missing, and docker's layer cache keeps every layer but the jar's.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_BUILDKIT=0 # the classic builder: Debian's docker.io has no buildx
base=${BASE:-flotilla/base:bookworm}
[ -n "${BASE:-}" ] || docker/build-base.sh
jar=node/target/flotilla.jar
[ -f "$jar" ] || { echo "build-images: $jar not found; build it with: mvn -q -DskipTests package" >&2; exit 1; }
version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | sed -n 1p)
ctx=node/target/docker
mkdir -p "$ctx"
# The modules jdeps finds in the jar (jdeps --ignore-missing-deps --print-module-deps
# --multi-release 17 flotilla.jar), plus those loaded by name, which jdeps cannot see: DNS lookups
# for JGroups' DNS_PING (jdk.naming.dns) and elliptic curves for the JDK's own TLS (jdk.crypto.ec).
modules=java.base,java.compiler,java.desktop,java.naming,java.net.http,java.scripting,java.security.jgss
modules=$modules,java.sql,jdk.jfr,jdk.management,jdk.net,jdk.unsupported,jdk.naming.dns,jdk.crypto.ec
stamp="$(java -version 2>&1 | sed -n 1p) $modules"
if [ "$(cat "$ctx/runtime.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$ctx/runtime"
  jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --output "$ctx/runtime"
  echo "$stamp" >"$ctx/runtime.stamp"
fi
cp "$jar" "$ctx/flotilla.jar"
cp docker/node/Dockerfile docker/node/healthcheck.sh "$ctx/"
build() { # TAG DIR: quiet unless it fails
  local log; log=$(mktemp)
  if ! docker build --network host --build-arg BASE="$base" --build-arg VERSION="$version" -t "$1" "$2" >"$log" 2>&1; then
    tail -30 "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}
build "flotilla/node:$version" "$ctx"
docker tag "flotilla/node:$version" flotilla/node:latest
# The peers image takes this machine's Prometheus binary (see docker/peers/Dockerfile).
prometheus=$(command -v prometheus || true)
[ -n "$prometheus" ] || { echo "build-images: no prometheus here; install it: apt-get install prometheus" >&2; exit 1; }
mkdir -p node/target/peers
cp docker/peers/Dockerfile docker/peers/origin.py "$prometheus" node/target/peers/
build flotilla/peers:test node/target/peers
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^flotilla/' | sed 's/^/build-images: /'
