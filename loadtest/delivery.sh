#!/usr/bin/env bash
# Outbound webhook delivery benchmark: deliveries/s from the outbox to a local receiver, none lost.
#   bash loadtest/delivery.sh                 # 25,000 events x 4 endpoints = 100,000 deliveries
#   EVENTS=50000 ENDPOINTS=2 bash loadtest/delivery.sh
# Settings (environment): EVENTS, ENDPOINTS, GATEWAY_JAVA_OPTS (default -Xmx256m),
# GATEWAY_DELIVERY_INSTANCES (default 2), RECEIVER_THREADS (default 1), any other GATEWAY_* variable.
# It starts its own embedded Postgres and Redis (temp dir), the gateway jar as a separate process and
# the receiver; see loadtest/DeliveryBench.java for what is measured.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jar=target/postback-gateway.jar
if [[ ! -f $jar || ${BUILD:-auto} == always ]]; then
  mvn -B -q package -DskipTests
fi
exec java -Xmx512m -cp "$jar" loadtest/DeliveryBench.java
