#!/usr/bin/env bash
# What a cache hit costs served as stored, against encoding its body again per request (1 KiB and
# 64 KiB; gzip, br, zstd at the default levels), and CPU/size per level: the measurement behind the
# cache decision and the default levels in docs/compression.md. Thread CPU times, in-process, bounded
# (a fixed count of requests); on a busy machine read the proportions. No fixed ports (binds port 0).
set -euo pipefail
cd "$(dirname "$0")/../.."
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
mvn -B -q -pl node -am test-compile dependency:build-classpath -Dmdep.outputFile="$cp" -Dmdep.includeScope=test
exec java -cp "node/target/test-classes:node/target/classes:$(cat "$cp")" io.flotilla.node.compress.HitEncodingCostBench
