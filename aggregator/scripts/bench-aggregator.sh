#!/usr/bin/env bash
# Aggregator throughput: the Flink job on a real local broker at parallelism 1 and 2, next to the
# same sums in-process with he-native and a plain Java modular-add loop (memory-bandwidth ceiling).
# Needs he-native, fl-protocol and kafka-local installed (mvn -pl he-native,fl-protocol,kafka-local -DskipTests install).
# Usage: aggregator/scripts/bench-aggregator.sh [updates=40] [ciphertextsPerUpdate=12]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test-compile
cp_file=target/bench.classpath
mvn -B -q dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
cp="target/classes:target/test-classes:$(cat "$cp_file")"
exec java -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.org.fedseal=warn \
  -Dorg.slf4j.simpleLogger.log.org.apache.kafka=error \
  -Dorg.slf4j.simpleLogger.log.org.apache.flink.connector.kafka.sink.internal=off \
  -cp "$cp" org.fedseal.aggregator.bench.AggregatorBench "$@"
