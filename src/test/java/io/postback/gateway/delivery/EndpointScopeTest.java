package io.postback.gateway.delivery;

import io.postback.gateway.delivery.DeliveryFixtures.Endpoint;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.postback.gateway.support.WebhookReceiver.Answer;
import io.postback.gateway.support.WebhookReceiver.Received;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;

import static io.postback.gateway.delivery.DeliveryFixtures.deliveries;
import static io.postback.gateway.delivery.DeliveryFixtures.register;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPEC §5 endpoint scopes: an endpoint receives only the events of its scope (surface, affiliate, both,
 * or neither), operational events reach unscoped endpoints only and carry no URL; and events that
 * arrive while an endpoint is disabled are recorded as skipped deliveries that a replay sends.
 */
class EndpointScopeTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static RunningGateway gateway;
  private static WebhookReceiver receiver;

  @BeforeAll
  static void start() {
    gateway = RunningGateway.start(DeliveryFixtures.FAST);
    DeliveryFixtures.forgetEndpoints();
    receiver = new WebhookReceiver();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    receiver.close();
  }

  @AfterEach
  void forget() {
    DeliveryFixtures.forgetEndpoints();
  }

  private static String sale(String externalId, String clickId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":1000,\"currency\":\"USD\""
        + (clickId == null ? "" : ",\"clickId\":\"" + clickId + "\"") + "}";
  }

  /** What an endpoint received, as "type:subject" (externalId, else affiliateId, else endpointId). */
  private static Set<String> received(String path) {
    Set<String> out = new TreeSet<>();
    for (Received r : receiver.received(path)) {
      JsonObject payload = r.json();
      JsonObject data = payload.getJsonObject("data");
      String subject = data.getString("externalId") != null ? data.getString("externalId")
          : data.getString("affiliateId") != null ? data.getString("affiliateId") : data.getString("endpointId");
      out.add(payload.getString("event") + ":" + subject);
    }
    return out;
  }

  private static Endpoint scoped(GatewayClient client, String path, String surfaceId, String affiliateId) {
    JsonObject body = new JsonObject().put("url", receiver.url(path));
    if (surfaceId != null) {
      body.put("surfaceId", surfaceId);
    }
    if (affiliateId != null) {
      body.put("affiliateId", affiliateId);
    }
    return register(client, body);
  }

  @Test
  void eachEndpointReceivesExactlyTheEventsOfItsScope() {
    GatewayClient client = gateway.client();
    TestSurface s1 = client.createSurface();
    TestSurface s2 = client.createSurface();
    String a1 = client.createAffiliate("active");
    String a2 = client.createAffiliate("active");
    String l11 = client.createLink(s1, a1, "https://shop.example/", null);
    String l12 = client.createLink(s1, a2, "https://shop.example/", null);
    String l21 = client.createLink(s2, a1, "https://shop.example/", null);
    String l22 = client.createLink(s2, a2, "https://shop.example/", null);

    scoped(client, "/all", null, null);
    Endpoint surface1 = scoped(client, "/s1", s1.id(), null);
    Endpoint affiliate1 = scoped(client, "/a1", null, a1);
    Endpoint affiliate1OnSurface1 = scoped(client, "/a1s1", s1.id(), a1);
    // An unscoped endpoint that answers 410: it is disabled, which emits endpoint.disabled.
    receiver.behave("/gone", (n, r) -> Answer.of(410));
    Endpoint gone = scoped(client, "/gone", null, null);
    JsonObject shown = client.admin("GET", "/admin/webhook-endpoints/" + affiliate1OnSurface1.id(), null).json();
    assertThat(shown.getString("surfaceId")).isEqualTo(s1.id());
    assertThat(shown.getString("affiliateId")).isEqualTo(a1);

    String p = "scope-" + System.nanoTime() + "-";
    assertThat(client.postback(s1, sale(p + "11", client.click(l11))).json().getString("affiliateId")).isEqualTo(a1);
    assertThat(client.postback(s1, sale(p + "12", client.click(l12))).json().getString("affiliateId")).isEqualTo(a2);
    assertThat(client.postback(s2, sale(p + "21", client.click(l21))).json().getString("affiliateId")).isEqualTo(a1);
    assertThat(client.postback(s2, sale(p + "22", client.click(l22))).json().getString("affiliateId")).isEqualTo(a2);
    assertThat(client.postback(s1, sale(p + "u", null)).json().getString("status")).isEqualTo("unattributed");
    for (String affiliate : new String[] {a1, a2}) {
      assertThat(client.admin("POST", "/admin/payouts", new JsonObject().put("affiliateId", affiliate)
          .put("amountMinor", 500).put("currency", "USD")).status()).isEqualTo(201);
      assertThat(client.admin("PATCH", "/admin/affiliates/" + affiliate, new JsonObject().put("status", "suspended"))
          .status()).isEqualTo(200);
    }

    Set<String> ours = Set.of(
        "conversion.created:" + p + "11", "conversion.created:" + p + "12", "conversion.created:" + p + "21",
        "conversion.created:" + p + "22", "conversion.created:" + p + "u",
        "payout.initiated:" + a1, "payout.initiated:" + a2, "affiliate.suspended:" + a1, "affiliate.suspended:" + a2,
        "endpoint.disabled:" + gone.id());
    Await.until("the unscoped endpoint has every event", WAIT, () -> received("/all").containsAll(ours));
    for (Endpoint ep : new Endpoint[] {surface1, affiliate1, affiliate1OnSurface1}) {
      Await.until("nothing pending for " + ep.id(), WAIT, () -> deliveries(ep.id(), "pending") == 0);
    }

    assertThat(received("/s1")).containsExactlyInAnyOrder(
        "conversion.created:" + p + "11", "conversion.created:" + p + "12", "conversion.created:" + p + "u");
    assertThat(received("/a1")).containsExactlyInAnyOrder(
        "conversion.created:" + p + "11", "conversion.created:" + p + "21",
        "payout.initiated:" + a1, "affiliate.suspended:" + a1);
    assertThat(received("/a1s1")).containsExactlyInAnyOrder(
        "conversion.created:" + p + "11", "payout.initiated:" + a1, "affiliate.suspended:" + a1);

    // endpoint.disabled names the endpoint and the reason, never its URL.
    Received disabled = receiver.received("/all").stream()
        .filter(r -> r.json().getString("event").equals("endpoint.disabled")).findFirst().orElseThrow();
    assertThat(disabled.json().getJsonObject("data").fieldNames()).containsExactlyInAnyOrder("endpointId", "reason");
    assertThat(disabled.body()).doesNotContain("/gone").doesNotContain("127.0.0.1");
  }

  @Test
  void scopesAreValidatedChangedAndCleared() {
    GatewayClient client = gateway.client();
    TestSurface s1 = client.createSurface();
    String a1 = client.createAffiliate("active");
    Reply unknownSurface = client.admin("POST", "/admin/webhook-endpoints",
        new JsonObject().put("url", receiver.url("/v")).put("surfaceId", "no-such-surface"));
    assertThat(unknownSurface.status()).isEqualTo(400);
    assertThat(unknownSurface.json().getString("field")).isEqualTo("surfaceId");
    Reply unknownAffiliate = client.admin("POST", "/admin/webhook-endpoints",
        new JsonObject().put("url", receiver.url("/v")).put("affiliateId", "aff_nobody"));
    assertThat(unknownAffiliate.status()).isEqualTo(400);
    assertThat(unknownAffiliate.json().getString("field")).isEqualTo("affiliateId");
    Reply notAString = client.admin("POST", "/admin/webhook-endpoints",
        new JsonObject().put("url", receiver.url("/v")).put("surfaceId", 42));
    assertThat(notAString.status()).isEqualTo(400);
    // Values Postgres cannot store are a 400 naming the field, never a failed query.
    for (String hostile : new String[] {"s\u0000x", "s\ud800", "%00", "a;b&c", "x".repeat(129)}) {
      for (String field : new String[] {"surfaceId", "affiliateId"}) {
        Reply r = client.admin("POST", "/admin/webhook-endpoints",
            new JsonObject().put("url", receiver.url("/v")).put(field, hostile));
        assertThat(r.status()).as(field + "=" + hostile).isEqualTo(400);
        assertThat(r.json().getString("field")).isEqualTo(field);
      }
    }

    Endpoint ep = scoped(client, "/v", s1.id(), null);
    JsonObject patched = client.admin("PATCH", "/admin/webhook-endpoints/" + ep.id(),
        new JsonObject().put("affiliateId", a1)).json();
    assertThat(patched.getString("surfaceId")).isEqualTo(s1.id());
    assertThat(patched.getString("affiliateId")).isEqualTo(a1);
    JsonObject cleared = client.admin("PATCH", "/admin/webhook-endpoints/" + ep.id(),
        new JsonObject().putNull("surfaceId")).json();
    assertThat(cleared.getString("surfaceId")).isNull();
    assertThat(cleared.getString("affiliateId")).isEqualTo(a1);
    assertThat(client.admin("GET", "/admin/webhook-endpoints", null).json().getJsonArray("items").stream()
        .map(o -> (JsonObject) o).filter(o -> o.getString("id").equals(ep.id())).findFirst().orElseThrow()
        .getString("affiliateId")).isEqualTo(a1);
  }

  @Test
  void eventsWhileDisabledAreSkippedDeliveriesThatAReplaySends() {
    GatewayClient client = gateway.client();
    TestSurface surface = client.createSurface();
    Instant before = Instant.now().minusSeconds(1);
    Endpoint ep = register(client, new JsonObject().put("url", receiver.url("/later")).put("surfaceId", surface.id())
        .put("enabled", false));
    Endpoint single = register(client, new JsonObject().put("url", receiver.url("/single")).put("surfaceId", surface.id())
        .put("enabled", false));

    assertThat(client.postback(surface, sale("skip-1", null)).status()).isEqualTo(200);
    Await.until("skipped deliveries recorded", WAIT,
        () -> deliveries(ep.id(), "skipped") == 1 && deliveries(single.id(), "skipped") == 1);
    Reply listed = client.admin("GET", "/admin/deliveries?status=skipped&endpointId=" + ep.id(), null);
    assertThat(listed.json().getJsonArray("items")).hasSize(1);
    JsonObject health = client.admin("GET", "/admin/webhook-endpoints/" + ep.id() + "/health", null).json();
    assertThat(health.getLong("skipped")).isEqualTo(1);
    assertThat(health.getLong("pending")).isZero();
    assertThat(health.getLong("dead")).isZero();
    // Skipped is not a queue: never scheduled, not pending, not dead.
    assertThat(TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'dead')")).isZero();
    Await.until("queue-depth gauges refreshed", WAIT, () -> {
      String scrape = client.get("/metrics").body();
      return scrape.contains("gateway_delivery_queue_depth{state=\"pending\"} 0.0")
          && scrape.contains("gateway_delivery_queue_depth{state=\"dead\"} 0.0");
    });
    assertThat(receiver.received("/later")).isEmpty();

    for (Endpoint e : new Endpoint[] {ep, single}) {
      assertThat(client.admin("PATCH", "/admin/webhook-endpoints/" + e.id(), new JsonObject().put("enabled", true))
          .status()).isEqualTo(200);
    }
    // A replay since a time after the skip finds nothing; since before it, the skipped event is sent.
    Reply none = client.admin("POST", "/admin/webhook-endpoints/" + ep.id() + "/replay?since="
        + Instant.now().plusSeconds(60), null);
    assertThat(none.json().getInteger("replayed")).isZero();
    Reply replayed = client.admin("POST", "/admin/webhook-endpoints/" + ep.id() + "/replay?since=" + before, null);
    assertThat(replayed.status()).isEqualTo(202);
    assertThat(replayed.json().getInteger("replayed")).isEqualTo(1);
    Await.until("skipped event delivered after replay", WAIT, () -> received("/later").equals(Set.of("conversion.created:skip-1")));
    Await.until("delivery succeeded", WAIT, () -> deliveries(ep.id(), "succeeded") == 1);

    // One skipped delivery can be replayed by id as well.
    String deliveryId = client.admin("GET", "/admin/deliveries?status=skipped&endpointId=" + single.id(), null).json()
        .getJsonArray("items").getJsonObject(0).getString("id");
    assertThat(client.admin("POST", "/admin/deliveries/" + deliveryId + "/replay", null).status()).isEqualTo(202);
    Await.until("single replay delivered", WAIT, () -> received("/single").equals(Set.of("conversion.created:skip-1")));
  }
}
