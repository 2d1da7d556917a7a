package io.postback.gateway.delivery;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/** Shared pieces of the delivery tests: fast settings, endpoint registration, an independent signature check. */
final class DeliveryFixtures {
  /** Retries 100 ms, 200 ms, 300 ms (4 attempts); everything polls fast so tests take seconds. */
  static final Map<String, String> FAST = Map.of(
      "GATEWAY_RETRY_SCHEDULE", "100ms,200ms,300ms",
      "GATEWAY_DELIVERY_POLL_INTERVAL", "20ms",
      "GATEWAY_DELIVERY_RECONCILE_INTERVAL", "200ms",
      "GATEWAY_DELIVERY_TIMEOUT", "2s",
      "GATEWAY_QUEUE_DEPTH_INTERVAL", "200ms",
      "GATEWAY_DELIVERY_STOP_GRACE", "300ms");

  private DeliveryFixtures() {
  }

  static Map<String, String> fast(String... overrides) {
    Map<String, String> env = new HashMap<>(FAST);
    for (int i = 0; i < overrides.length; i += 2) {
      env.put(overrides[i], overrides[i + 1]);
    }
    return env;
  }

  record Endpoint(String id, String secret) {
  }

  static Endpoint register(GatewayClient client, String url, String... eventTypes) {
    return register(client, new JsonObject().put("url", url), eventTypes);
  }

  static Endpoint register(GatewayClient client, JsonObject body, String... eventTypes) {
    if (eventTypes.length > 0) {
      body.put("eventTypes", new JsonArray(java.util.List.of((Object[]) eventTypes)));
    }
    Reply r = client.admin("POST", "/admin/webhook-endpoints", body);
    if (r.status() != 201) {
      throw new AssertionError("endpoint registration failed: " + r);
    }
    return new Endpoint(r.json().getString("id"), r.json().getString("secret"));
  }

  /** Removes every endpoint (and, by cascade, their deliveries) so tests do not see each other's retries. */
  static void forgetEndpoints() {
    TestBackends.execute("DELETE FROM webhook_endpoints");
  }

  static long deliveries(String endpointId, String status) {
    return TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE endpoint_id = ? AND status = ?", endpointId, status);
  }

  static long attempts(String endpointId) {
    return TestBackends.queryLong("SELECT count(*) FROM delivery_attempts WHERE endpoint_id = ?", endpointId);
  }

  /** The Standard Webhooks signature, computed here independently of the gateway's code. */
  static String expectedSignature(String secret, String id, String timestamp, String body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
    byte[] sig = mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
    return "v1," + Base64.getEncoder().encodeToString(sig);
  }
}
