#!/usr/bin/env bash
# Aggregator throughput: the Flink job on a real local broker at parallelism 1 and 2, next to the
# single-thread rate of each stage every update needs (Kafka fetch, Avro decode, SHA-256 of the chunk,
# he-native's validating load, modular add) and of those stages chained in one thread, all on the same
# records in one run (see AggregatorBench's javadoc).
# Needs he-native, fl-protocol and kafka-local installed (mvn -pl he-native,fl-protocol,kafka-local -DskipTests install).
# Usage: aggregator/scripts/bench-aggregator.sh [--json] [--warmup-rounds W] [--rounds N] [--jfr FILE] [--help] [updates=40] [ciphertextsPerUpdate=12]
#   --json      one JSON object of the figures, the only line on stdout (the table goes to stderr)
#   --warmup-rounds W, --rounds N  rounds summed before measuring (default 6; then it waits for a quiet JIT), and measured (default 8)
#   --jfr FILE  JDK Flight Recorder profile of the parallelism-1 job, summarised after the table
# BENCH_MAIN=org.fedseal.aggregator.ScaleRun runs the scale run instead ([clients] [parameters] [parallelism]).
set -euo pipefail
cd "$(dirname "$0")/.."
# Build output goes to stderr: with --json, stdout carries the JSON object alone.
mvn -B -q test-compile >&2
cp_file=target/bench.classpath
mvn -B -q dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
cp="target/classes:target/test-classes:$(cat "$cp_file")"
jvm_profiling=()
for a in "$@"; do
  case "$a" in
    # exact frames for inlined code, and stacks deep enough to reach the Flink task's root
    --jfr|--jfr=*) jvm_profiling=(-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -XX:FlightRecorderOptions:stackdepth=256) ;;
  esac
done
exec java -Xmx${BENCH_HEAP:-2g} "${jvm_profiling[@]}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.org.fedseal=warn \
  -Dorg.slf4j.simpleLogger.log.org.apache.kafka=error \
  -Dorg.slf4j.simpleLogger.log.org.apache.flink.connector.kafka.sink.internal=off \
  -Dorg.slf4j.simpleLogger.log.org.apache.flink.metrics=error \
  -cp "$cp" "${BENCH_MAIN:-org.fedseal.aggregator.bench.AggregatorBench}" "$@"
