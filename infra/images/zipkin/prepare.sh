#!/usr/bin/env bash
# Copies Zipkin's self-contained server jar (io.zipkin:zipkin-server:<version>:jar:exec) from Maven
# Central into OUT/dist/opt/zipkin/zipkin.jar; Maven checks its checksum. Usage: prepare.sh OUT
# (env: ZIPKIN_VERSION)
set -euo pipefail
out=$1
mkdir -p "$out/dist/opt/zipkin"
# copy needs no project; the plugin version is pinned like kafka/pom.xml's.
mvn -B -q --strict-checksums -Dstyle.color=never \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" \
  -DoutputDirectory="$out/dist/opt/zipkin" -Dmdep.stripVersion=true -Dmdep.stripClassifier=true
mv "$out/dist/opt/zipkin/zipkin-server.jar" "$out/dist/opt/zipkin/zipkin.jar"
