package io.postback.gateway.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Verifies captured deliveries the way a third party would: with the {@code standardwebhooks} npm
 * package, installed once into target/standardwebhooks-verify. Skips (assumption) only when node is absent.
 */
public final class StandardWebhooksNode {
  private static final Path DIR = Path.of("target", "standardwebhooks-verify");
  private static final String SCRIPT = """
      const { Webhook } = require('standardwebhooks');
      let input = '';
      process.stdin.on('data', c => input += c);
      process.stdin.on('end', () => {
        const { secret, deliveries } = JSON.parse(input);
        const wh = new Webhook(secret);
        for (const d of deliveries) {
          const payload = wh.verify(d.body, d.headers);   // throws on any mismatch
          if (payload.id !== d.headers['webhook-id']) throw new Error('payload id differs from webhook-id');
        }
        console.log('verified ' + deliveries.length);
      });
      """;

  private StandardWebhooksNode() {
  }

  /** Verifies every delivery with the secret; fails the test on any rejection, skips if node is missing. */
  public static String verify(String secret, List<WebhookReceiver.Received> deliveries) throws Exception {
    assumeTrue(run(Path.of("."), 10, "node", "--version") == 0,
        "node is not installed: skipping the third-party standardwebhooks verification");
    install();
    Files.writeString(DIR.resolve("verify.js"), SCRIPT);
    JsonArray items = new JsonArray();
    for (WebhookReceiver.Received d : deliveries) {
      items.add(new JsonObject().put("body", d.body()).put("headers", new JsonObject()
          .put("webhook-id", d.header("webhook-id"))
          .put("webhook-timestamp", d.header("webhook-timestamp"))
          .put("webhook-signature", d.header("webhook-signature"))));
    }
    Path input = Files.createTempFile("swv", ".json");
    Files.writeString(input, new JsonObject().put("secret", secret).put("deliveries", items).encode());
    Path out = Files.createTempFile("swv", ".out");
    Process p = new ProcessBuilder("node", "verify.js").directory(DIR.toFile())
        .redirectInput(input.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("node verification timed out");
    }
    String output = Files.readString(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new AssertionError("standardwebhooks rejected the delivery: " + output);
    }
    return output.trim();
  }

  private static synchronized void install() throws IOException, InterruptedException {
    if (Files.isDirectory(DIR.resolve("node_modules/standardwebhooks"))) {
      return;
    }
    Files.createDirectories(DIR);
    Files.writeString(DIR.resolve("package.json"), "{\"name\":\"standardwebhooks-verify\",\"private\":true}\n");
    int rc = run(DIR, 180, "npm", "install", "--no-audit", "--no-fund", "standardwebhooks@1");
    if (rc != 0) {
      throw new AssertionError("npm install standardwebhooks failed (exit " + rc + ")");
    }
  }

  private static int run(Path dir, int seconds, String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      return -1;
    }
  }
}
