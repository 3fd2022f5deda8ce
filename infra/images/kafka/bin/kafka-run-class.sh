#!/bin/sh
# shellcheck disable=SC2086 # the *_OPTS hold several flags each
# Runs a Kafka CLI class with the image's jars. Tools start a short-lived JVM: small heap, fast JIT.
exec java ${KAFKA_TOOLS_HEAP_OPTS:--Xmx256m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
  -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties ${KAFKA_TOOLS_OPTS:-} \
  -cp '/opt/kafka/libs/*' "$@"
