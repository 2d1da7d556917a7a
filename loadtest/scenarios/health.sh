# shellcheck shell=bash
# Scenario "health": bare ceiling of the HTTP stack, GET /health/live (no DB, no crypto).
# Results: health.* (rps, p50_ms, p99_ms, non2xx_3xx, ...)

scenario_health() {
  lt_log "== scenario health: GET /health/live (ceiling)"
  lt_wrk health "$DURATION" -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout "$WRK_TIMEOUT" --latency \
    "$LT_BASE_URL/health/live"
  lt_wrk_parse "$LT_OUT/wrk-health.txt" health
}

summary_health() {
  printf '%-22s %s\n' \
    "--- health ceiling" "GET /health/live" \
    "requests/s" "$(lt_get health.rps)" \
    "latency p50" "$(lt_get health.p50_ms) ms" \
    "latency p99" "$(lt_get health.p99_ms) ms" \
    "non-2xx/3xx" "$(lt_get health.non2xx_3xx)" \
    "cpu" "gateway $(lt_get health.gateway_cores) cores, machine $(lt_get health.machine_busy_pct)% busy"
}
