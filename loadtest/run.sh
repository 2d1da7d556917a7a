#!/usr/bin/env bash
# Postback Gateway load test: one command, see loadtest/README.md.
#   bash loadtest/run.sh [--no-build | --build] [--help]
set -euo pipefail

LT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LT_CUSTOM_CMD=${GATEWAY_CMD:+1}   # a custom gateway command (e.g. the mock) needs no jar

# ---- settings (environment) ------------------------------------------------------------------------
: "${DURATION:=20}"            # seconds, measured runs (postback, click, health)
: "${WARMUP:=10}"              # seconds of postback and click warm-up, 0 = none
: "${THREADS:=2}"              # wrk threads
: "${CONNECTIONS:=64}"         # wrk connections (total)
: "${DRAIN:=2}"                # seconds after each postback/click run for the last responses
: "${WRK_TIMEOUT:=5s}"         # wrk per-request timeout (counted as socket timeout errors)
: "${RATE_HINT:=30000}"        # req/s the request files are sized for
: "${REQUESTS:=$((RATE_HINT * ${DURATION%s}))}"
: "${WARMUP_REQUESTS:=$((RATE_HINT * ${WARMUP%s}))}"
: "${SCENARIOS:=postback click health}"
: "${TARGET_RATIO:=0.25}"      # postbacks accepted/s divided by health req/s
: "${AIM_RATIO:=0.40}"
: "${CLICK_TARGET_RATIO:=0.50}" # clicks (302s)/s divided by health req/s
: "${ENFORCE_RATIO:=0}"        # 1 = exit 5 when a ratio is below its target
: "${STRICT_COUNT:=0}"         # 1 = rows must equal 200s exactly (no in-flight allowance)
: "${KEEP_REQUEST_FILES:=0}"
DURATION=${DURATION%s}
WARMUP=${WARMUP%s}

BUILD=auto
usage() { sed -n '/<!-- usage -->/,/<!-- \/usage -->/p' "$LT_DIR/README.md" | sed '1d;$d' | grep -v '^```'; }
while (($#)); do
  case $1 in
    --no-build) BUILD=never ;;
    --build) BUILD=always ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=lib.sh
source "$LT_DIR/lib.sh"
for f in "$LT_DIR"/scenarios/*.sh; do
  # shellcheck disable=SC1090
  source "$f"
done

for v in DURATION WARMUP DRAIN THREADS CONNECTIONS REQUESTS WARMUP_REQUESTS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || lt_die "$v must be a whole number (got '${!v}')"
done
((DURATION > 0 && THREADS > 0 && CONNECTIONS >= THREADS)) || lt_die "need DURATION > 0 and CONNECTIONS >= THREADS > 0"
((DURATION + DRAIN <= 240 && WARMUP + DRAIN <= 240)) || lt_die "DURATION/WARMUP (+ DRAIN) must be <= 240 s: signed timestamps expire after 5 min"
((REQUESTS >= THREADS && (WARMUP == 0 || WARMUP_REQUESTS >= THREADS))) || lt_die "REQUESTS too small"
for s in $SCENARIOS; do
  declare -F "scenario_$s" >/dev/null || lt_die "unknown scenario '$s' (have: $(declare -F | awk '/ scenario_/ {sub("scenario_", "", $3); printf "%s ", $3}'))"
done

trap lt_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- setup -------------------------------------------------------------------------------------------
mkdir -p "$LT_OUT"
rm -f "$LT_OUT"/wrk-*.txt "$LT_OUT"/reqs-*.tsv "$LT_OUT"/summary.txt "$LT_OUT"/results.env
LT_RUN_ID="bench-$(date +%Y%m%d%H%M%S)-$$"
lt_log "run $LT_RUN_ID, scenarios: $SCENARIOS"

lt_ensure_tools wrk jq curl psql redis-cli openssl java ss
if [[ -z $LT_CUSTOM_CMD ]]; then
  lt_build_jar "$BUILD"
fi
lt_reset_db
lt_flush_redis
lt_start_gateway
lt_wait_ready
lt_create_surface bench

# ---- scenarios ---------------------------------------------------------------------------------------
for s in $SCENARIOS; do
  "scenario_$s"
done

# ---- summary -----------------------------------------------------------------------------------------
rc=0
{
  echo "==================== LOAD TEST SUMMARY ===================="
  printf '%-22s %s\n' \
    "run" "$LT_RUN_ID  $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "machine" "$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" \
    "load" "wrk -t$THREADS -c$CONNECTIONS, ${DURATION}s per run (postback, click: +${DRAIN}s drain, ${WARMUP}s warm-up)" \
    "gateway" "$GATEWAY_CMD"
  for s in $SCENARIOS; do
    if declare -F "summary_$s" >/dev/null; then "summary_$s"; fi
  done

  if [[ -n $(lt_get health.rps) ]] && [[ -n $(lt_get postback.accepted_per_s) || -n $(lt_get click.clicks_per_s) ]]; then
    echo "--- ratio"
  fi
  if [[ -n $(lt_get postback.accepted_per_s) && -n $(lt_get health.rps) ]]; then
    ratio=$(lt_calc "$(lt_get postback.accepted_per_s) / $(lt_get health.rps)")
    ratio=$(printf '%.3f' "$ratio")
    lt_set ratio.postback_health "$ratio"
    if lt_ge "$ratio" "$AIM_RATIO"; then verdict="meets aim"
    elif lt_ge "$ratio" "$TARGET_RATIO"; then verdict="meets target, below aim"
    else verdict="BELOW TARGET"; if [[ $ENFORCE_RATIO == 1 ]]; then rc=5; fi
    fi
    printf '%-22s %s\n' "postbacks/health" "$ratio  (target >= $TARGET_RATIO, aim $AIM_RATIO): $verdict"
  fi
  if [[ -n $(lt_get click.clicks_per_s) && -n $(lt_get health.rps) ]]; then
    ratio=$(lt_calc "$(lt_get click.clicks_per_s) / $(lt_get health.rps)")
    ratio=$(printf '%.3f' "$ratio")
    lt_set ratio.click_health "$ratio"
    if lt_ge "$ratio" "$CLICK_TARGET_RATIO"; then verdict="meets target"
    else verdict="BELOW TARGET"; if [[ $ENFORCE_RATIO == 1 ]]; then rc=5; fi
    fi
    printf '%-22s %s\n' "clicks/health" "$ratio  (target >= $CLICK_TARGET_RATIO): $verdict"
  fi

  echo "--- checks"
  if kill -0 "$LT_GATEWAY_PID" 2>/dev/null; then
    printf '%-22s %s\n' "CHECK gateway alive" "PASS"
  else
    printf '%-22s %s\n' "CHECK gateway alive" "FAIL (exited during the run, see $LT_OUT/gateway.log)"
    rc=3
  fi
  for s in $SCENARIOS; do
    if declare -F "check_$s" >/dev/null; then "check_$s" || rc=3; fi
  done
  if (($(lt_get postback.exhausted 0) > 0)); then
    printf '%-22s %s\n' "RESULT INVALID" "request file exhausted during the measured run: raise REQUESTS or RATE_HINT"
    ((rc != 0)) || rc=4
  fi
  printf '%-22s %s\n' "files" "$LT_OUT/{summary.txt,results.env,wrk-*.txt,gateway.log}"
  if [[ -n $(lt_get health.rps) ]] && [[ -n $(lt_get postback.accepted_per_s) || -n $(lt_get click.clicks_per_s) ]]; then
    echo "README results row:"
    # shellcheck disable=SC2016  # literal backticks (markdown)
    printf '| %s | %s | `%s` | %s | %s / %s | %s | %s | %s / %s | %s | %s / %s | %s | %s | %s |\n' \
      "$(date +%Y-%m-%d)" "$(nproc) cores $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
      "bash loadtest/run.sh (t$THREADS c$CONNECTIONS ${DURATION}s)" \
      "$(lt_get postback.accepted_per_s -)" "$(lt_get postback.p50_ms -)" "$(lt_get postback.p99_ms -)" \
      "$(lt_get postback.non2xx -)" \
      "$(lt_get click.clicks_per_s -)" "$(lt_get click.p50_ms -)" "$(lt_get click.p99_ms -)" \
      "$(lt_get click.non302 -)" "$(lt_get health.rps)" "$(lt_get health.p99_ms)" \
      "$(lt_get ratio.postback_health -)" "$(lt_get ratio.click_health -)" \
      "$(lt_get check.rows -) / $(lt_get check.click_rows -)"
  fi
  echo "==========================================================="
} >"$LT_OUT/summary.txt"
cat "$LT_OUT/summary.txt"
lt_set exit_code "$rc"
lt_results_dump "$LT_OUT/results.env"
exit "$rc"
