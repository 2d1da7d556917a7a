<?php
// Receives the gateway's webhooks and verifies their Standard Webhooks signature. PHP 7.3+.
// Try it with PHP's built-in server: php -S 0.0.0.0:${PORT:-9000} receiver.php

$secret = getenv('WEBHOOK_SECRET'); // the endpoint's whsec_... secret
$key = base64_decode(preg_replace('/^whsec_/', '', $secret));
$tolerance = 5 * 60;

$body = file_get_contents('php://input'); // the exact bytes received
$id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
$timestamp = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
$signatures = explode(' ', $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '');

$expected = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
$fresh = ctype_digit($timestamp) && abs(time() - (int) $timestamp) <= $tolerance;
// One signature per active secret (rotation): any may match; hash_equals compares in constant time.
$matches = array_filter($signatures, function ($signature) use ($expected) {
    return hash_equals($expected, $signature);
});
if ($id === '' || !$fresh || !$matches) {
    http_response_code(400);
    exit;
}

$event = json_decode($body, true);
// Deliveries are at-least-once: de-duplicate on webhook-id (= $event['id']) before acting.
file_put_contents('php://stderr', "verified {$event['id']} {$event['event']}\n");
http_response_code(204);
