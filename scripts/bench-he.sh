#!/usr/bin/env bash
# he-native benchmark: JMH per-ciphertext costs next to a plain float-sum baseline, then
# bytes per parameter on the wire. Needs `mvn -pl he-native -am -DskipTests install` first
# (./fedseal bench he does that).
set -euo pipefail
cd "$(dirname "$0")/../he-native"
cp_file=target/bench.classpath
mvn -B -q dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
cp="target/classes:target/test-classes:$(cat "$cp_file")"
echo "== he-native, JMH, microseconds per ciphertext (8192 values packed COMPLEX, 4096 REAL) =="
java -cp "$cp" org.openjdk.jmh.Main "org.fedseal.he.bench.HeBenchmark" -rf text -rff target/jmh.txt "$@" | tail -n 20
echo
echo "== bytes on the wire =="
java -cp "$cp" org.fedseal.he.bench.WireSizes
