package io.postback.gateway.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Verifies captured deliveries the way a third party would: with the {@code standardwebhooks} npm
 * package from tools/node ({@link NodeTools}). Skips only when node is absent and CI is not set.
 */
public final class StandardWebhooksNode {
  private static final String SCRIPT = """
      const { Webhook } = require('standardwebhooks');
      const input = require('fs').readFileSync(process.argv[2], 'utf8');
      {
        const { secret, deliveries } = JSON.parse(input);
        const wh = new Webhook(secret);
        for (const d of deliveries) {
          const payload = wh.verify(d.body, d.headers);   // throws on any mismatch
          if (payload.id !== d.headers['webhook-id']) throw new Error('payload id differs from webhook-id');
        }
        console.log('verified ' + deliveries.length);
      }
      """;

  private StandardWebhooksNode() {
  }

  /** Verifies every delivery with the secret; fails the test on any rejection, skips if node is missing. */
  public static String verify(String secret, List<WebhookReceiver.Received> deliveries) throws Exception {
    NodeTools.require();
    Path script = Files.createTempFile("swv", ".js");
    Files.writeString(script, SCRIPT);
    JsonArray items = new JsonArray();
    for (WebhookReceiver.Received d : deliveries) {
      items.add(new JsonObject().put("body", d.body()).put("headers", new JsonObject()
          .put("webhook-id", d.header("webhook-id"))
          .put("webhook-timestamp", d.header("webhook-timestamp"))
          .put("webhook-signature", d.header("webhook-signature"))));
    }
    Path input = Files.createTempFile("swv", ".json");
    Files.writeString(input, new JsonObject().put("secret", secret).put("deliveries", items).encode());
    NodeTools.Result r = NodeTools.node(60, script, input.toString());
    if (r.exitCode() != 0) {
      throw new AssertionError("standardwebhooks rejected the delivery: " + r.output());
    }
    return r.output().trim();
  }
}
