package io.postback.gateway.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Signs webhooks the way the payment providers' own libraries do, from tools/node ({@link NodeTools}):
 * Stripe's with the {@code stripe} package's {@code webhooks.generateTestHeaderString}; Razorpay's
 * npm package can only verify, so a Razorpay signature is a plain HMAC-SHA256 that the package's
 * {@code validateWebhookSignature} must accept before the test may send it. Skips only when node is
 * absent and CI is not set.
 */
public final class PaymentProvidersNode {
  private static final String SCRIPT = """
      const fs = require('fs');
      const crypto = require('crypto');
      const stripe = require('stripe')('sk_test_unused');
      const { validateWebhookSignature } = require('razorpay/dist/utils/razorpay-utils');
      const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
      const out = jobs.map(job => {
        if (job.provider === 'stripe') {
          return stripe.webhooks.generateTestHeaderString({ payload: job.payload, secret: job.secret, timestamp: job.timestamp });
        }
        const signature = crypto.createHmac('sha256', job.secret).update(job.payload).digest('hex');
        if (validateWebhookSignature(job.payload, signature, job.secret) !== true) {
          throw new Error('razorpay rejected the signature');
        }
        return signature;
      });
      console.log(JSON.stringify(out));
      """;

  private PaymentProvidersNode() {
  }

  /** The Stripe-Signature header for the payload, signed at {@code timestampSeconds}. */
  public static String stripeSignature(String secret, long timestampSeconds, String payload) {
    return run(List.of(new JsonObject().put("provider", "stripe").put("secret", secret)
        .put("timestamp", timestampSeconds).put("payload", payload))).get(0);
  }

  /** The X-Razorpay-Signature header for the payload, accepted by Razorpay's own validateWebhookSignature. */
  public static String razorpaySignature(String secret, String payload) {
    return run(List.of(new JsonObject().put("provider", "razorpay").put("secret", secret).put("payload", payload))).get(0);
  }

  private static List<String> run(List<JsonObject> jobs) {
    try {
      NodeTools.require();
      Path script = Files.createTempFile("providers", ".js");
      Files.writeString(script, SCRIPT);
      Path input = Files.createTempFile("providers", ".json");
      Files.writeString(input, new JsonArray(new ArrayList<>(jobs)).encode());
      NodeTools.Result r = NodeTools.node(60, script, input.toString());
      Files.deleteIfExists(script);
      Files.deleteIfExists(input);
      if (r.exitCode() != 0) {
        throw new AssertionError("signing with the provider's library failed: " + r.output());
      }
      String output = r.output().trim();
      JsonArray signatures = new JsonArray(output.substring(output.lastIndexOf('\n') + 1));
      List<String> out = new ArrayList<>();
      signatures.forEach(s -> out.add((String) s));
      return out;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
