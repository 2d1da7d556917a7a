#!/usr/bin/env bash
# Prints, sorted and unique, the gateway-exported metric names that the alert rules and the Grafana
# dashboard reference (Prometheus' own `up` is not exported by the gateway, so it is not listed).
#   ops/referenced-metrics.sh > ops/metric-names.txt   regenerate the list
#   ops/referenced-metrics.sh --check                  fail if ops/metric-names.txt is out of date
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

extract() {
  grep -ohE '\b(gateway|vertx|jvm|process)_[a-z0-9_]+' \
    "$root/config/prometheus/alerts.yml" \
    "$root/config/grafana/postback-gateway-dashboard.json" \
    | LC_ALL=C sort -u
}

case "${1:-}" in
  "") extract ;;
  --check)
    if diff -u "$here/metric-names.txt" <(extract); then
      echo "ops/metric-names.txt matches the metrics referenced by alerts.yml and the dashboard"
    else
      echo "ops/metric-names.txt is out of date: run ops/referenced-metrics.sh > ops/metric-names.txt" >&2
      exit 1
    fi
    ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
