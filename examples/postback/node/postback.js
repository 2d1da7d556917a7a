// Sends one signed conversion postback to the gateway. Node 18+ (global fetch), no dependencies.
const crypto = require('node:crypto');

const gatewayUrl = process.env.GATEWAY_URL || 'http://localhost:8080';
const surfaceId = process.env.SURFACE_ID || 'demo';
const secret = process.env.SURFACE_SECRET;
if (!secret) {
  console.error('SURFACE_SECRET is required');
  process.exit(2);
}

async function sendPostback(conversion) {
  const body = JSON.stringify(conversion); // sign exactly the bytes you send
  const timestamp = Date.now().toString(); // Unix milliseconds
  const signature = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  const response = await fetch(`${gatewayUrl}/v1/conversions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-ea-surface': surfaceId,
      'x-ea-timestamp': timestamp,
      'x-ea-signature': signature,
    },
    body,
  });
  return { status: response.status, answer: await response.text() };
}

sendPostback({
  externalId: process.env.EXTERNAL_ID || `order-${Date.now()}`, // your order id: a retry with the same one is a duplicate
  eventType: 'sale',
  grossMinor: 4999,
  currency: 'USD',
}).then(({ status, answer }) => {
  console.log(status, answer);
  if (status < 200 || status > 299) process.exitCode = 1;
});
