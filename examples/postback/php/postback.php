<?php
// Sends one signed conversion postback to the gateway. PHP 7.3+ with the curl extension.

$gatewayUrl = getenv('GATEWAY_URL') ?: 'http://localhost:8080';
$surfaceId = getenv('SURFACE_ID') ?: 'demo';
$secret = getenv('SURFACE_SECRET');
if (!$secret) {
    fwrite(STDERR, "SURFACE_SECRET is required\n");
    exit(2);
}

function sendPostback(string $gatewayUrl, string $surfaceId, string $secret, array $conversion): array
{
    $body = json_encode($conversion, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR); // sign exactly the bytes you send
    $timestamp = sprintf('%d', microtime(true) * 1000); // Unix milliseconds
    $signature = hash_hmac('sha256', $timestamp . '.' . $body, $secret);
    $curl = curl_init($gatewayUrl . '/v1/conversions');
    curl_setopt_array($curl, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_HTTPHEADER => [
            'content-type: application/json',
            'x-ea-surface: ' . $surfaceId,
            'x-ea-timestamp: ' . $timestamp,
            'x-ea-signature: ' . $signature,
        ],
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => 10,
    ]);
    $answer = curl_exec($curl);
    if ($answer === false) {
        throw new RuntimeException('postback failed: ' . curl_error($curl));
    }
    $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    curl_close($curl);
    return [$status, $answer];
}

[$status, $answer] = sendPostback($gatewayUrl, $surfaceId, $secret, [
    'externalId' => getenv('EXTERNAL_ID') ?: 'order-' . sprintf('%d', microtime(true) * 1000), // your order id
    'eventType' => 'sale',
    'grossMinor' => 4999,
    'currency' => 'USD',
]);
echo $status, ' ', $answer, "\n";
exit($status >= 200 && $status <= 299 ? 0 : 1);
