#!/usr/bin/env bash
# Copies the Kafka broker jars (+ runtime deps, logging backend) from Maven Central into
# OUT/dist/opt/kafka/libs, using pom.xml. Usage: prepare.sh OUT   (env: KAFKA_VERSION)
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
# Run on a copy so Maven's target/ lands in the cache, not in the source tree.
cp "$here/pom.xml" "$out/pom.xml"
mvn -B -q --strict-checksums -Dstyle.color=never -f "$out/pom.xml" \
  -Dkafka.version="$KAFKA_VERSION" -Dlibs.dir="$out/dist/opt/kafka/libs" package
ls "$out/dist/opt/kafka/libs/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null
