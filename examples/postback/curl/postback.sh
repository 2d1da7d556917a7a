#!/usr/bin/env bash
# Sends one signed conversion postback to the gateway with curl, openssl and jq.
set -euo pipefail

: "${SURFACE_SECRET:?SURFACE_SECRET is required}"
GATEWAY_URL=${GATEWAY_URL:-http://localhost:8080}
SURFACE_ID=${SURFACE_ID:-demo}
ts=$(( $(date +%s) * 1000 ))   # Unix milliseconds (second precision is enough; works with BSD and GNU date)
EXTERNAL_ID=${EXTERNAL_ID:-order-$ts}   # your order id

# jq builds the JSON (it escapes quotes in the id); sign exactly the bytes you send.
body=$(jq -cn --arg id "$EXTERNAL_ID" '{externalId: $id, eventType: "sale", grossMinor: 4999, currency: "USD"}')
sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$SURFACE_SECRET" | cut -d' ' -f2)

response=$(curl -sS -w '\n%{http_code}' -X POST "$GATEWAY_URL/v1/conversions" \
  -H 'content-type: application/json' -H "x-ea-surface: $SURFACE_ID" \
  -H "x-ea-timestamp: $ts" -H "x-ea-signature: $sig" --data-binary "$body")
status=${response##*$'\n'}
echo "$status ${response%$'\n'*}"
[[ $status == 2?? ]]
