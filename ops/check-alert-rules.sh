#!/usr/bin/env bash
# Checks the Prometheus/Grafana operations config with the real promtool:
#   config/prometheus/alerts.yml        rule syntax and lint (promtool check rules)
#   config/prometheus/alerts_test.yml   alert unit tests     (promtool test rules)
#   config/prometheus/prometheus.yml    example scrape config (promtool check config)
#   config/grafana/*.json               valid JSON, every panel query parses as PromQL
#   ops/metric-names.txt                up to date with what the rules and dashboard reference
# Works from any directory. Installs promtool (Debian package `prometheus`) and jq if missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
prom="$root/config/prometheus"
dashboard="$root/config/grafana/postback-gateway-dashboard.json"

run() {
  echo "+ $*"
  "$@"
}

apt_updated=false
ensure() { # ensure <command> <debian package>
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "$1 not found: installing Debian package $2"
  if [ "$apt_updated" = false ]; then
    run apt-get update -qq
    apt_updated=true
  fi
  # The package also ships the Prometheus server; only its promtool is used here.
  DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq "$2"
}

ensure promtool prometheus
ensure jq jq
echo "+ promtool --version"
promtool --version | sed -n 1p   # sed, not head: head would SIGPIPE under pipefail

run promtool check rules "$prom/alerts.yml"
run promtool test rules "$prom/alerts_test.yml"
run promtool check config "$prom/prometheus.yml"

# Grafana variables are not PromQL: give them plausible values, then let promtool parse each
# panel query as a recording rule.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
jq -r '
  [.panels[] | .targets[]? | .expr]
  | {groups: [{name: "dashboard-queries",
               rules: [to_entries[] | {record: "dashboard:query_\(.key)", expr: .value}]}]}
' "$dashboard" \
  | sed -e 's/\$__rate_interval/5m/g' -e 's/\$instance/.*/g' > "$tmp/dashboard-queries.yml"
echo "+ promtool check rules <panel queries of $(basename "$dashboard")>"
promtool check rules "$tmp/dashboard-queries.yml"

run "$here/referenced-metrics.sh" --check
echo "alert rules, rule tests, Prometheus config and dashboard queries: OK"
