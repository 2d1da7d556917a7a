"""Receives the gateway's webhooks and verifies their Standard Webhooks signature. Python 3.9+, standard library only."""
import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = base64.b64decode(os.environ["WEBHOOK_SECRET"].removeprefix("whsec_"))  # the endpoint's whsec_... secret
TOLERANCE_SECONDS = 5 * 60


def verified(headers, body):
    msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    digest = hmac.new(KEY, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = b"v1," + base64.b64encode(digest)
    # One signature per active secret (rotation): any may match; compare in constant time.
    return any(hmac.compare_digest(expected, s.encode()) for s in headers.get("webhook-signature", "").split(" "))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))  # the exact bytes received
        if not verified(self.headers, body):
            self.send_response(400)
            self.end_headers()
            return
        event = json.loads(body)
        # Deliveries are at-least-once: de-duplicate on webhook-id (= event["id"]) before acting.
        print(f"verified {event['id']} {event['event']}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # no access log
        pass


port = int(os.environ.get("PORT", "9000"))
print(f"listening on {port}", flush=True)
ThreadingHTTPServer(("", port), Receiver).serve_forever()
