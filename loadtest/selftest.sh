#!/usr/bin/env bash
# Tests the harness itself, without the real gateway: bash loadtest/selftest.sh  (~2 min)
# Uses loadtest/mock/mock-gateway.js (node) on 127.0.0.1:18089, database gateway_selftest,
# Redis db 14, output in loadtest/out/selftest/. Does not touch gateway_bench or Redis db 3.
# SELFTEST_PORT, SELFTEST_PG_DB, SELFTEST_REDIS_DB override port, database and Redis db (e.g. when
# 18089 is taken by another process).
# shellcheck disable=SC2015,SC2012  # pass/fail always succeed; file names are ours
set -euo pipefail

LT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LT_OUT="$LT_DIR/out/selftest"
export GATEWAY_PORT=${SELFTEST_PORT:-18089} PG_DB=${SELFTEST_PG_DB:-gateway_selftest} REDIS_DB=${SELFTEST_REDIS_DB:-14}
export GATEWAY_CMD="node $LT_DIR/mock/mock-gateway.js"
# shellcheck source=lib.sh
source "$LT_DIR/lib.sh"
# shellcheck source=scenarios/click.sh
source "$LT_DIR/scenarios/click.sh"
mkdir -p "$LT_OUT"
lt_ensure_tools wrk jq curl psql redis-cli openssl java node ss

fails=0
pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; fails=$((fails + 1)); }
expect() { # expect DESCRIPTION ACTUAL EXPECTED
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

echo "== syntax"
for f in "$LT_DIR"/*.sh "$LT_DIR"/scenarios/*.sh; do bash -n "$f" || fail "bash -n $f"; done
node --check "$LT_DIR/mock/mock-gateway.js" && pass "shell and node syntax"

echo "== GenRequests vs openssl"
secret='sëcret+/=with"quote'
LT_SECRET=$secret java "$LT_DIR/GenRequests.java" --count 1000 --prefix selftest-g --out "$LT_OUT/gen.tsv" 2>/dev/null
expect "1000 lines" "$(wc -l <"$LT_OUT/gen.tsv")" 1000
expect "one line length" "$(awk '{print length($0)}' "$LT_OUT/gen.tsv" | sort -u | wc -l)" 1
expect "unique externalIds" "$(cut -f3 "$LT_OUT/gen.tsv" | jq -r .externalId | sort -u | wc -l)" 1000
for n in 1 500 1000; do
  IFS=$'\t' read -r ts sig body < <(sed -n "${n}p" "$LT_OUT/gen.tsv")
  expect "openssl HMAC line $n" "$(lt_sign "$ts" "$body" "$secret")" "$sig"
done
now=$(date +%s%3N)
IFS=$'\t' read -r ts _ _ <"$LT_OUT/gen.tsv"
((ts <= now && now - ts < 60000)) && pass "timestamp is now (ms)" || fail "timestamp $ts vs now $now"
rm -f "$LT_OUT/gen.tsv"

echo "== wrk output parser"
cat >"$LT_OUT/canned.txt" <<'EOF'
Running 20s test @ http://127.0.0.1:8089/health/live
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.23ms    2.10ms  80.00ms   95.00%
    Req/Sec    20.00k     1.00k   25.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    2.50ms
     99%    1.20s
  800000 requests in 20.00s, 60.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 12
  Non-2xx or 3xx responses: 42
Requests/sec:  40000.12
Transfer/sec:      3.00MB
EOF
lt_wrk_parse "$LT_OUT/canned.txt" c
expect "rps" "$(lt_get c.rps)" 40000.12
expect "requests" "$(lt_get c.requests)" 800000
expect "seconds" "$(lt_get c.seconds)" 20.00
expect "p50 us->ms" "$(lt_get c.p50_ms)" 0.812
expect "p75 ms" "$(lt_get c.p75_ms)" 1.100
expect "p99 s->ms" "$(lt_get c.p99_ms)" 1200.000
expect "non2xx" "$(lt_get c.non2xx_3xx)" 42
expect "read errors" "$(lt_get c.err_read)" 3
expect "timeouts" "$(lt_get c.err_timeout)" 12
expect "minutes" "$(lt_wrk_time_ms 1.50m)" 90000.000
printf 'LT_RESULT a=1 b=x,y\n' >"$LT_OUT/canned.txt"
lt_lt_result "$LT_OUT/canned.txt" r
expect "LT_RESULT parse" "$(lt_get r.a)/$(lt_get r.b)" "1/x,y"
rm -f "$LT_OUT/canned.txt"

echo "== click Location check (probe)"
loc_ok() { # loc_ok DESTINATION LOCATION -> yes/no
  if CLICK_DESTINATION=$1 lt_click_location_ok "$2"; then echo yes; else echo no; fi
}
expect "query: & clickId" "$(loc_ok 'https://s.example/l?utm=b' 'https://s.example/l?utm=b&clickId=ck_1')" yes
expect "no query: ? clickId" "$(loc_ok 'https://s.example/l' 'https://s.example/l?clickId=ck_1')" yes
expect "trailing ?" "$(loc_ok 'https://s.example/l?' 'https://s.example/l?clickId=ck_1')" yes
expect "fragment kept last" "$(loc_ok 'https://s.example/l?a=1#top' 'https://s.example/l?a=1&clickId=ck_1#top')" yes
expect "fragment lost" "$(loc_ok 'https://s.example/l?a=1#top' 'https://s.example/l?a=1&clickId=ck_1')" no
expect "bare destination" "$(loc_ok 'https://s.example/l?utm=b' 'https://s.example/l?utm=b')" no
expect "empty clickId" "$(loc_ok 'https://s.example/l?utm=b' 'https://s.example/l?utm=b&clickId=')" no
expect "other host" "$(loc_ok 'https://s.example/l?utm=b' 'https://x.example/l?utm=b&clickId=ck_1')" no
expect "extra parameter" "$(loc_ok 'https://s.example/l?utm=b' 'https://s.example/l?utm=b&clickId=ck_1&x=1')" no

echo "== postback.lua counts non-2xx (bad signatures against the mock)"
trap lt_cleanup EXIT
lt_reset_db
lt_start_gateway
lt_wait_ready
lt_create_surface selftest
LT_SECRET="not-$SURFACE_SECRET" java "$LT_DIR/GenRequests.java" --count 5000 --prefix selftest-bad --out "$LT_OUT/bad.tsv" 2>/dev/null
timeout 30 wrk -t2 -c8 -d2s --latency -s "$LT_DIR/postback.lua" "$LT_BASE_URL" -- "$LT_OUT/bad.tsv" "$SURFACE_ID" 2 1 >"$LT_OUT/wrk-bad.txt" 2>&1
lt_lt_result "$LT_OUT/wrk-bad.txt" bad
lt_wrk_parse "$LT_OUT/wrk-bad.txt" badw
expect "no 200 for bad signatures" "$(lt_get bad.s200)" 0
(($(lt_get bad.responses) > 0)) && pass "responses counted ($(lt_get bad.responses))" || fail "no responses"
expect "non2xx == responses" "$(lt_get bad.non2xx)" "$(lt_get bad.responses)"
expect "all 401" "$(lt_get bad.statuses)" "401:$(lt_get bad.responses)"
expect "wrk Non-2xx agrees" "$(lt_get badw.non2xx_3xx)" "$(lt_get bad.responses)"
expect "drained: nothing unanswered" "$(lt_get bad.unanswered)" 0
expect "no rows" "$(lt_pg 'select count(*) from conversions')" 0
rm -f "$LT_OUT/bad.tsv"

echo "== click.lua counts 302s and their Locations (against the mock)"
auth=(-H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json')
dest='https://shop.example/landing?utm=bench'
lt_http POST /admin/affiliates '{"name":"selftest affiliate","status":"active"}' "${auth[@]}"
expect "POST /admin/affiliates" "$LT_HTTP_STATUS" 201
aff=$(jq -r .id <<<"$LT_HTTP_BODY")
lt_http POST /admin/links "{\"surfaceId\":\"$SURFACE_ID\",\"affiliateId\":\"$aff\",\"destinationUrl\":\"$dest\"}" "${auth[@]}"
expect "POST /admin/links" "$LT_HTTP_STATUS" 201
code=$(jq -r .code <<<"$LT_HTTP_BODY")
click_wrk() { # click_wrk PREFIX PATH DESTINATION : 1 s of sending + 1 s drain
  timeout 30 wrk -t2 -c8 -d2s --latency -s "$LT_DIR/click.lua" "$LT_BASE_URL" -- "$2" "$3" 1 >"$LT_OUT/wrk-$1.txt" 2>&1
  lt_lt_result "$LT_OUT/wrk-$1.txt" "$1"
  lt_wrk_parse "$LT_OUT/wrk-$1.txt" "$1w"
}
click_wrk ck "/c/$code?sub1=selftest" "$dest"
(($(lt_get ck.s302) > 0)) && pass "302s counted ($(lt_get ck.s302))" || fail "no 302s"
expect "all 302" "$(lt_get ck.statuses)" "302:$(lt_get ck.responses)"
expect "every 302 has a clickId" "$(lt_get ck.with_id)" "$(lt_get ck.s302)"
expect "non302" "$(lt_get ck.non302)" 0
expect "wrk Non-2xx ignores 302s" "$(lt_get ckw.non2xx_3xx)" 0
expect "drained: nothing unanswered" "$(lt_get ck.unanswered)" 0
expect "rows == 302s" "$(lt_pg "select count(*) from clicks where link_code = '$code'")" "$(lt_get ck.s302)"
expect "sub1 recorded" "$(lt_pg "select count(*) from clicks where sub1 = 'selftest'")" "$(lt_get ck.s302)"
click_wrk ck404 "/c/no-such-$code" "$dest"
(($(lt_get ck404.responses) > 0)) && pass "404s counted ($(lt_get ck404.responses))" || fail "no responses"
expect "unknown code: no 302" "$(lt_get ck404.s302)" 0
expect "unknown code: non302 == responses" "$(lt_get ck404.non302)" "$(lt_get ck404.responses)"
expect "unknown code: all 404" "$(lt_get ck404.statuses)" "404:$(lt_get ck404.responses)"
expect "wrk Non-2xx agrees" "$(lt_get ck404w.non2xx_3xx)" "$(lt_get ck404.responses)"
click_wrk ckbad "/c/$code" "https://other.example/landing"
(($(lt_get ckbad.s302) > 0)) && pass "302s counted ($(lt_get ckbad.s302))" || fail "no 302s"
expect "wrong destination: malformed == 302s" "$(lt_get ckbad.bad_location)" "$(lt_get ckbad.s302)"
expect "wrong destination: none with clickId" "$(lt_get ckbad.with_id)" 0
lt_stop_gateway
trap - EXIT

run() { # run EXPECTED_EXIT DESCRIPTION env... : full run.sh against the mock
  local want=$1 desc=$2 rc=0
  shift 2
  env "$@" bash "$LT_DIR/run.sh" >"$LT_OUT/run.out" 2>"$LT_OUT/run.err" || rc=$?
  expect "run.sh $desc: exit code" "$rc" "$want"
}

echo "== run.sh end to end (mock gateway)"
run 0 "normal" DURATION=4 WARMUP=2 RATE_HINT=20000
grep -q '^CHECK rows == 200s *PASS$' "$LT_OUT/run.out" && pass "exact PASS line" || fail "no exact PASS: $(grep CHECK "$LT_OUT/run.out")"
grep -q '^CHECK clicks == 302s *PASS$' "$LT_OUT/run.out" && pass "exact click PASS line" || fail "no exact click PASS: $(grep CHECK "$LT_OUT/run.out")"
grep -q '^postbacks/health ' "$LT_OUT/run.out" && pass "ratio line" || fail "no ratio line"
grep -q '^clicks/health .*target >= 0.50' "$LT_OUT/run.out" && pass "click ratio line" || fail "no click ratio line"
grep -q 'run bench-.*, scenarios: postback click health$' "$LT_OUT/run.err" && pass "default scenarios" || fail "default scenarios not 'postback click health'"
expect "results.env exit_code" "$(grep '^exit_code=' "$LT_OUT/results.env")" "exit_code=0"
expect "rows == expected" "$(grep -c "^postback.db_rows=$(awk -F= '/^check.expected_rows=/ {print $2}' "$LT_OUT/results.env")$" "$LT_OUT/results.env")" 1
expect "click rows == expected" "$(grep -c "^click.db_rows=$(awk -F= '/^check.click_expected_rows=/ {print $2}' "$LT_OUT/results.env")$" "$LT_OUT/results.env")" 1
(($(awk -F= '/^click.s302=/ {print $2}' "$LT_OUT/results.env") > 0)) && pass "measured 302s" || fail "no measured 302s"
grep -q 'probe click OK: 302 -> https://shop.example/landing?utm=bench&clickId=' "$LT_OUT/run.err" && pass "click probe" || fail "no click probe"
expect "request files removed" "$(ls "$LT_OUT"/reqs-*.tsv 2>/dev/null | wc -l)" 0
grep -q 'stopping gateway' "$LT_OUT/run.err" && pass "gateway stopped" || fail "gateway not stopped"

run 3 "mock loses every 500th row" DURATION=2 WARMUP=0 RATE_HINT=20000 MOCK_LOSE_EVERY=500
grep -q '^CHECK rows == 200s *FAIL' "$LT_OUT/run.out" && pass "FAIL line" || fail "no FAIL line"
grep -q '^CHECK clicks == 302s *FAIL' "$LT_OUT/run.out" && pass "click FAIL line" || fail "no click FAIL line"

run 3 "mock redirects every 300th click without clickId" SCENARIOS=click DURATION=2 WARMUP=0 MOCK_CLICK_UNRECORDED_EVERY=300
grep -q '^CHECK clickId *FAIL' "$LT_OUT/run.out" && pass "clickId FAIL line" || fail "no clickId FAIL line"
grep -q '^CHECK clicks == 302s *FAIL' "$LT_OUT/run.out" && pass "click rows FAIL line" || fail "no click rows FAIL line"

run 5 "click ratio below target, enforced" SCENARIOS="click health" DURATION=1 WARMUP=0 CLICK_TARGET_RATIO=100 ENFORCE_RATIO=1
grep -q '^clicks/health .*BELOW TARGET' "$LT_OUT/run.out" && pass "BELOW TARGET line" || fail "no BELOW TARGET line"
grep -q '^postbacks/health' "$LT_OUT/run.out" && fail "postback ratio without postback scenario" || pass "no postback ratio"
grep -q '^| .* | - | - / - | - | [0-9.]* | ' "$LT_OUT/run.out" && pass "results row without postback" || fail "results row: $(grep '^| ' "$LT_OUT/run.out")"

run 4 "request file too small" DURATION=2 WARMUP=0 REQUESTS=2000
grep -q '^RESULT INVALID' "$LT_OUT/run.out" && pass "INVALID line" || fail "no INVALID line"
grep -q '^CHECK rows == 200s *PASS$' "$LT_OUT/run.out" && pass "exact PASS despite exhaustion" || fail "count check after exhaustion"

run 1 "bad admin token" DURATION=2 WARMUP=0 ADMIN_TOKEN=wrong GATEWAY_CMD="env GATEWAY_ADMIN_TOKEN=right node $LT_DIR/mock/mock-gateway.js"
grep -q 'POST /admin/surfaces -> 401' "$LT_OUT/run.err" && pass "admin error reported" || fail "admin error not reported"

echo "== SIGTERM mid-run stops wrk and the gateway"
env DURATION=20 WARMUP=0 RATE_HINT=5000 bash "$LT_DIR/run.sh" >"$LT_OUT/run.out" 2>"$LT_OUT/run.err" &
rp=$!
for _ in $(seq 1 60); do grep -q 'wrk \[postback\]' "$LT_OUT/run.err" 2>/dev/null && break; sleep 0.5; done
sleep 2
kill -TERM "$rp"
rc=0
wait "$rp" || rc=$?
expect "exit code after SIGTERM" "$rc" 143
sleep 0.5
lt_port_in_use "$GATEWAY_PORT" && fail "gateway still listening on $GATEWAY_PORT" || pass "gateway gone"
expect "request files removed" "$(ls "$LT_OUT"/reqs-*.tsv 2>/dev/null | wc -l)" 0

lt_psql postgres "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || true

echo
if ((fails == 0)); then echo "SELFTEST PASS"; else echo "SELFTEST FAIL ($fails)"; exit 1; fi
