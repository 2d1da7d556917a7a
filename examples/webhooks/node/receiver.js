// Receives the gateway's webhooks and verifies them with the Standard Webhooks library:
// npm install standardwebhooks && node receiver.js
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const webhook = new Webhook(process.env.WEBHOOK_SECRET); // the endpoint's whsec_... secret
const port = Number(process.env.PORT || 9000);

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let event;
    try {
      // The exact bytes received; checks every signature listed and a 5-minute timestamp tolerance.
      event = webhook.verify(Buffer.concat(chunks), req.headers);
    } catch (e) {
      console.error(`refused: ${e.message}`);
      res.writeHead(400).end();
      return;
    }
    // Deliveries are at-least-once: de-duplicate on webhook-id (= event.id) before acting.
    console.log(`verified ${event.id} ${event.event}`);
    res.writeHead(204).end();
  });
}).listen(port, () => console.log(`listening on ${port}`));
