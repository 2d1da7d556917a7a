"""Sends one signed conversion postback to the gateway. Python 3, standard library only."""
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request

GATEWAY_URL = os.environ.get("GATEWAY_URL", "http://localhost:8080")
SURFACE_ID = os.environ.get("SURFACE_ID", "demo")
SECRET = os.environ.get("SURFACE_SECRET") or sys.exit("SURFACE_SECRET is required")


def send_postback(conversion):
    body = json.dumps(conversion).encode("utf-8")  # sign exactly the bytes you send
    timestamp = str(time.time_ns() // 1_000_000)  # Unix milliseconds
    signature = hmac.new(SECRET.encode("utf-8"), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{GATEWAY_URL}/v1/conversions", data=body, method="POST", headers={
        "content-type": "application/json",
        "x-ea-surface": SURFACE_ID,
        "x-ea-timestamp": timestamp,
        "x-ea-signature": signature,
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:  # 4xx and 5xx carry the gateway's JSON error
        return error.code, error.read().decode()


status, answer = send_postback({
    "externalId": os.environ.get("EXTERNAL_ID", f"order-{time.time_ns() // 1_000_000}"),  # your order id
    "eventType": "sale",
    "grossMinor": 4999,
    "currency": "USD",
})
print(status, answer)
sys.exit(0 if 200 <= status <= 299 else 1)
