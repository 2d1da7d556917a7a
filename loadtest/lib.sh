# shellcheck shell=bash
# Shared helpers for the load-test harness. Sourced by run.sh (and selftest.sh); no side effects
# on source except defaults. All names are prefixed lt_ / LT_.

LT_DIR=${LT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
LT_ROOT=${LT_ROOT:-$(cd "$LT_DIR/.." && pwd)}
LT_OUT=${LT_OUT:-$LT_DIR/out}

# ---- settings (override through the environment) ----------------------------------------------
: "${GATEWAY_HOST:=127.0.0.1}"
: "${GATEWAY_PORT:=8089}"
: "${PG_HOST:=127.0.0.1}"
: "${PG_PORT:=5432}"
: "${PG_USER:=postgres}"
: "${PG_DB:=gateway_bench}"
: "${REDIS_HOST:=127.0.0.1}"
: "${REDIS_PORT:=6379}"
: "${REDIS_DB:=3}"
: "${ADMIN_TOKEN:=bench-admin-token}"
: "${GATEWAY_JAR:=$LT_ROOT/target/postback-gateway.jar}"
: "${GATEWAY_JAVA_OPTS:=-Xmx256m}"
: "${GATEWAY_CMD:=java $GATEWAY_JAVA_OPTS -jar $GATEWAY_JAR}"
: "${READY_TIMEOUT:=60}"
: "${STOP_TIMEOUT:=30}"
: "${CONVERSIONS_TABLE:=conversions}"
: "${CLICKS_TABLE:=clicks}"

LT_BASE_URL="http://$GATEWAY_HOST:$GATEWAY_PORT"
LT_GATEWAY_PID=""
LT_WRK_PID=""
declare -A LT_R=()     # results: key -> value (e.g. postback.accepted_per_s)
declare -a LT_R_KEYS=()

# ---- logging / results ---------------------------------------------------------------------------
lt_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
lt_die() { lt_log "ERROR: $*"; exit 1; }

lt_set() {
  [[ -v "LT_R[$1]" ]] || LT_R_KEYS+=("$1")
  LT_R[$1]=$2
}
lt_get() { if [[ -v "LT_R[$1]" ]]; then printf '%s' "${LT_R[$1]}"; else printf '%s' "${2-}"; fi; }

# Writes all results as key=value lines (sorted by insertion) to $1.
lt_results_dump() {
  local k
  for k in "${LT_R_KEYS[@]}"; do printf '%s=%s\n' "$k" "${LT_R[$k]}"; done >"$1"
}

# Float arithmetic: lt_calc '<awk expression>' e.g. lt_calc "$a / $b"
lt_calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }
# Float comparison: lt_ge a b  -> status 0 if a >= b
lt_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# ---- tools -----------------------------------------------------------------------------------------
# lt_ensure_tools cmd... : installs missing commands from Debian (apt-get).
lt_ensure_tools() {
  local cmd pkg missing=()
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 && continue
    case $cmd in
      psql) pkg=postgresql-client ;;
      redis-cli) pkg=redis-tools ;;
      java) pkg=openjdk-17-jdk-headless ;;
      mvn) pkg=maven ;;
      ss) pkg=iproute2 ;;
      node) pkg=nodejs ;;
      *) pkg=$cmd ;;
    esac
    missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  lt_log "installing from Debian: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
    || lt_die "apt-get install ${missing[*]} failed"
  for cmd in "$@"; do command -v "$cmd" >/dev/null 2>&1 || lt_die "$cmd still missing after install"; done
}

# lt_build_jar auto|never|always
lt_build_jar() {
  local mode=$1
  if [[ $mode == always || ($mode == auto && ! -f $GATEWAY_JAR) ]]; then
    lt_ensure_tools mvn
    lt_log "building $GATEWAY_JAR (mvn -B -q package -DskipTests)"
    (cd "$LT_ROOT" && mvn -B -q package -DskipTests) || lt_die "maven build failed"
  fi
  [[ -f $GATEWAY_JAR ]] || lt_die "$GATEWAY_JAR not found (run without --no-build, or set GATEWAY_JAR)"
}

# ---- PostgreSQL / Redis ----------------------------------------------------------------------------
# lt_psql DB SQL : prints unaligned tuples-only output.
lt_psql() {
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$1" -v ON_ERROR_STOP=1 -At -c "$2"
}
lt_pg() { lt_psql "$PG_DB" "$1"; }

lt_reset_db() {
  [[ $PG_DB =~ ^[a-z_][a-z0-9_]*$ ]] || lt_die "PG_DB must be a plain identifier: $PG_DB"
  lt_log "recreating database $PG_DB on $PG_HOST:$PG_PORT"
  lt_psql postgres "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || lt_die "cannot drop $PG_DB"
  lt_psql postgres "CREATE DATABASE $PG_DB" || lt_die "cannot create $PG_DB"
}

lt_flush_redis() {
  lt_log "flushing redis db $REDIS_DB on $REDIS_HOST:$REDIS_PORT"
  [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" FLUSHDB) == OK ]] || lt_die "redis FLUSHDB failed"
}

# Polls `SQL` (a single number) until it stops changing: 3 equal reads 300 ms apart, at most ~15 s.
# Lets requests that were in flight when wrk stopped finish before rows are counted.
lt_pg_settled_count() {
  local sql=$1 prev="" cur stable=0 i
  for ((i = 0; i < 50; i++)); do
    cur=$(lt_pg "$sql") || lt_die "query failed: $sql"
    if [[ $cur == "$prev" ]]; then
      ((++stable >= 2)) && break
    else
      stable=0
    fi
    prev=$cur
    sleep 0.3
  done
  printf '%s' "$cur"
}

# ---- gateway process -------------------------------------------------------------------------------
lt_port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

lt_start_gateway() {
  lt_port_in_use "$GATEWAY_PORT" && lt_die "port $GATEWAY_PORT is already in use (old gateway still running?)"
  mkdir -p "$LT_OUT"
  lt_log "starting gateway: $GATEWAY_CMD (log: $LT_OUT/gateway.log)"
  (
    export GATEWAY_HTTP_PORT="$GATEWAY_PORT"
    export GATEWAY_PG_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
    export GATEWAY_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB"
    export GATEWAY_ADMIN_TOKEN="$ADMIN_TOKEN"
    cd "$LT_ROOT" || exit 1
    eval "exec $GATEWAY_CMD"
  ) >"$LT_OUT/gateway.log" 2>&1 &
  LT_GATEWAY_PID=$!
}

lt_wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS -o /dev/null -m 2 "$LT_BASE_URL/health/ready" 2>/dev/null; do
    if ! kill -0 "$LT_GATEWAY_PID" 2>/dev/null; then
      local rc=0
      wait "$LT_GATEWAY_PID" || rc=$?
      LT_GATEWAY_PID=""
      tail -n 40 "$LT_OUT/gateway.log" >&2 || true
      lt_die "gateway exited with status $rc during startup (see $LT_OUT/gateway.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$LT_OUT/gateway.log" >&2 || true
      lt_die "gateway not ready after ${READY_TIMEOUT}s (see $LT_OUT/gateway.log)"
    fi
    sleep 0.5
  done
  lt_log "gateway ready (pid $LT_GATEWAY_PID)"
}

# SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL. Safe to call twice.
lt_stop_gateway() {
  local pid=$LT_GATEWAY_PID
  [[ -n $pid ]] || return 0
  LT_GATEWAY_PID=""
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  lt_log "stopping gateway (pid $pid, SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    lt_log "gateway did not stop within ${STOP_TIMEOUT}s, SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Trap handler: stops wrk and the gateway, removes LT_CLEANUP_FILES, keeps the exit status.
# Install with:  trap lt_cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
declare -a LT_CLEANUP_FILES=()
lt_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $LT_WRK_PID ]]; then
    kill -TERM "$LT_WRK_PID" 2>/dev/null || true
    wait "$LT_WRK_PID" 2>/dev/null || true
  fi
  lt_stop_gateway
  ((${#LT_CLEANUP_FILES[@]} == 0)) || rm -f "${LT_CLEANUP_FILES[@]}"
  exit "$rc"
}

# ---- HTTP helpers ----------------------------------------------------------------------------------
# lt_http METHOD PATH [BODY] [curl args...] -> sets LT_HTTP_STATUS and LT_HTTP_BODY
lt_http() {
  local method=$1 path=$2 tmp
  local -a data=()
  (($# >= 3)) && [[ -n $3 ]] && data=(--data-binary "$3")
  shift $(($# < 3 ? $# : 3))
  tmp=$(mktemp)
  LT_HTTP_STATUS=$(curl -sS -m 10 -o "$tmp" -w '%{http_code}' -X "$method" "$@" \
    "${data[@]}" "$LT_BASE_URL$path") || LT_HTTP_STATUS=000
  LT_HTTP_BODY=$(cat "$tmp")
  rm -f "$tmp"
}

# lt_create_surface NAME -> sets SURFACE_ID, SURFACE_SECRET
lt_create_surface() {
  lt_http POST /admin/surfaces "{\"name\":\"$1\"}" \
    -H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json'
  [[ $LT_HTTP_STATUS == 201 || $LT_HTTP_STATUS == 200 ]] \
    || lt_die "POST /admin/surfaces -> $LT_HTTP_STATUS: $LT_HTTP_BODY"
  SURFACE_ID=$(jq -er '.id' <<<"$LT_HTTP_BODY") || lt_die "no id in surface response: $LT_HTTP_BODY"
  SURFACE_SECRET=$(jq -er '.secret' <<<"$LT_HTTP_BODY") || lt_die "no secret in surface response"
  lt_log "created surface $SURFACE_ID"
}

# lt_sign TS BODY SECRET -> lowercase hex HMAC-SHA256 of "TS.BODY" (independent of GenRequests)
lt_sign() {
  printf '%s.%s' "$1" "$2" | openssl dgst -sha256 -hmac "$3" | awk '{print $NF}'
}

# lt_gen_requests COUNT PREFIX OUTFILE (uses SURFACE_SECRET)
lt_gen_requests() {
  LT_SECRET=$SURFACE_SECRET java "$LT_DIR/GenRequests.java" \
    --count "$1" --prefix "$2" --out "$3" || lt_die "GenRequests failed"
}

# ---- CPU accounting --------------------------------------------------------------------------------
# CPU seconds (user+sys) used so far by process $1 (0 if gone).
lt_proc_cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# "busy total" jiffies of the whole machine (all cores).
lt_machine_jiffies() {
  awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

# ---- wrk -------------------------------------------------------------------------------------------
# lt_wrk NAME DURATION_S wrk-args... : runs wrk (bounded by timeout), output to $LT_OUT/wrk-NAME.txt,
# echoes the output. wrk runs in the background so INT/TERM traps fire immediately.
# Also stores NAME.gateway_cores (avg cores used by the gateway process during the run) and
# NAME.machine_busy_pct (all processes, all cores: wrk + gateway + PostgreSQL + ...).
lt_wrk() {
  local name=$1 dur=$2 out="$LT_OUT/wrk-$1.txt" rc=0 cpu0 cpu1 t0 t1 busy0 total0 busy1 total1
  shift 2
  lt_log "wrk [$name] ${dur}s: wrk $*"
  cpu0=$(lt_proc_cpu_s "${LT_GATEWAY_PID:-0}")
  read -r busy0 total0 < <(lt_machine_jiffies)
  t0=$(date +%s.%N)
  timeout -k 5 $((dur + 120)) wrk "$@" >"$out" 2>&1 &
  LT_WRK_PID=$!
  wait "$LT_WRK_PID" || rc=$?
  LT_WRK_PID=""
  t1=$(date +%s.%N)
  cpu1=$(lt_proc_cpu_s "${LT_GATEWAY_PID:-0}")
  read -r busy1 total1 < <(lt_machine_jiffies)
  sed 's/^/    | /' "$out" >&2
  ((rc == 0)) || lt_die "wrk [$name] exited with $rc (output: $out)"
  lt_set "$name.gateway_cores" "$(printf '%.2f' "$(lt_calc "($cpu1 - $cpu0) / ($t1 - $t0)")")"
  lt_set "$name.machine_busy_pct" "$(printf '%.0f' "$(lt_calc "100 * ($busy1 - $busy0) / ($total1 - $total0 + 1e-9)")")"
}

# Converts a wrk time ("812.00us", "1.23ms", "2.00s", "1.50m") to milliseconds.
lt_wrk_time_ms() {
  awk -v t="$1" 'BEGIN {
    if (match(t, /^[0-9.]+/) == 0) { print "NaN"; exit }
    v = substr(t, 1, RLENGTH); u = substr(t, RLENGTH + 1)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
    if (f < 0) { print "NaN"; exit }
    printf "%.3f", v * f
  }'
}

# lt_wrk_parse FILE PREFIX : stores PREFIX.{rps,requests,seconds,p50_ms,p75_ms,p90_ms,p99_ms,
# non2xx_3xx,err_connect,err_read,err_write,err_timeout} from standard `wrk --latency` output.
lt_wrk_parse() {
  local file=$1 p=$2 line k v
  grep -q '^Requests/sec:' "$file" || lt_die "unexpected wrk output in $file"
  lt_set "$p.rps" "$(awk '/^Requests\/sec:/ {print $2}' "$file")"
  lt_set "$p.requests" "$(awk '/ requests in / {print $1}' "$file")"
  lt_set "$p.seconds" "$(awk '/ requests in / {v = $4; sub(/s,?$/, "", v); print v}' "$file")"
  for k in 50 75 90 99; do
    v=$(awk -v k="$k%" '$1 == k {print $2; exit}' "$file")
    [[ -n $v ]] || lt_die "no $k% latency in $file (was --latency given?)"
    lt_set "$p.p${k}_ms" "$(lt_wrk_time_ms "$v")"
  done
  lt_set "$p.non2xx_3xx" "$(awk -F: '/Non-2xx or 3xx responses:/ {gsub(/ /, "", $2); print $2; f=1} END {if (!f) print 0}' "$file")"
  line=$(grep 'Socket errors:' "$file" || true)
  for k in connect read write timeout; do
    v=0
    [[ $line =~ $k\ ([0-9]+) ]] && v=${BASH_REMATCH[1]}
    lt_set "$p.err_$k" "$v"
  done
}

# lt_lt_result FILE PREFIX : stores every key=value of the script's "LT_RESULT ..." line as PREFIX.key
lt_lt_result() {
  local file=$1 p=$2 line kv
  line=$(grep '^LT_RESULT ' "$file" | tail -n 1) || lt_die "no LT_RESULT line in $file"
  for kv in ${line#LT_RESULT }; do
    lt_set "$p.${kv%%=*}" "${kv#*=}"
  done
}
