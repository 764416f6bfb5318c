#!/bin/sh
# Writes server.properties from KAFKA_* variables, formats the log dir once, runs the broker in the foreground.
set -eu
conf=/opt/kafka/config/container.properties
: > "$conf"
env | grep '^KAFKA_' | grep -v '^KAFKA_HEAP_OPTS=\|^KAFKA_OPTS=\|^KAFKA_JVM' | while IFS='=' read -r name value; do
  key=$(echo "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
  echo "$key=$value" >> "$conf"
done
grep -q '^log.dirs=' "$conf" || echo "log.dirs=/var/lib/kafka/data" >> "$conf"
logdir=$(sed -n 's/^log.dirs=//p' "$conf" | cut -d, -f1)
if [ ! -f "$logdir/meta.properties" ]; then
  java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format -t "${CLUSTER_ID:?CLUSTER_ID must be set}" -c "$conf" >/dev/null
fi
exec java ${KAFKA_HEAP_OPTS:--Xmx1g} -XX:+UseSerialGC ${KAFKA_OPTS:-} \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp '/opt/kafka/libs/*' kafka.Kafka "$conf"
