package io.postback.gateway.report;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.StandardWebhooksNode;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.postback.gateway.support.WebhookReceiver.Received;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** SPEC §6: a report of the window's attributed conversions, delivered in signed batches of at most 100. */
class AttributionReportTest {
  private static RunningGateway gateway;
  private static WebhookReceiver receiver;

  @BeforeAll
  static void start() {
    gateway = RunningGateway.start(java.util.Map.of("GATEWAY_DELIVERY_POLL_INTERVAL", "20ms",
        "GATEWAY_RETRY_SCHEDULE", "100ms,200ms"));
    TestBackends.execute("DELETE FROM webhook_endpoints");
    receiver = new WebhookReceiver();
  }

  @AfterAll
  static void stop() {
    TestBackends.execute("DELETE FROM webhook_endpoints");
    gateway.close();
    receiver.close();
  }

  @Test
  void aReportOf250MatchesArrivesAsThreeSignedBatches() throws Exception {
    GatewayClient client = gateway.client();
    TestSurface campaign = client.createSurface();
    TestSurface other = client.createSurface();
    seed(campaign.id(), "in", 250, "2026-01-05", true);
    seed(campaign.id(), "before", 7, "2025-12-20", true);      // outside the window
    seed(campaign.id(), "unattributed", 9, "2026-01-06", false); // not a match
    seed(other.id(), "other", 11, "2026-01-07", true);          // another campaign
    Reply registered = client.admin("POST", "/admin/webhook-endpoints", new JsonObject()
        .put("url", receiver.url("/reports")).put("eventTypes", new JsonArray().add("report.attribution")));
    String secret = registered.json().getString("secret");

    Reply created = client.admin("POST", "/v1/reports/attribution", new JsonObject()
        .put("start_date", "2026-01-01").put("end_date", "2026-01-31").put("campaign_id", campaign.id()));
    assertThat(created.status()).isEqualTo(202);
    assertThat(created.json().getString("status")).isEqualTo("created");
    String id = created.json().getString("id");

    Await.until("three batches", Duration.ofSeconds(20), () -> receiver.received("/reports").size() == 3);
    List<Received> batches = receiver.received("/reports").stream()
        .sorted(Comparator.comparing(r -> r.json().getJsonObject("data").getInteger("batch_index"))).toList();
    Set<String> conversions = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      JsonObject payload = batches.get(i).json();
      assertThat(payload.getString("event")).isEqualTo("report.attribution");
      JsonObject data = payload.getJsonObject("data");
      assertThat(data.getInteger("batch_index")).isEqualTo(i + 1);
      assertThat(data.getInteger("total_batches")).isEqualTo(3);
      assertThat(data.getString("campaign_id")).isEqualTo(campaign.id());
      assertThat(data.getString("start_date")).isEqualTo("2026-01-01");
      assertThat(data.getString("end_date")).isEqualTo("2026-01-31");
      assertThat(data.getJsonArray("attribution_data")).hasSize(i < 2 ? 100 : 50);
      data.getJsonArray("attribution_data").forEach(o -> {
        JsonObject m = (JsonObject) o;
        assertThat(m.getString("external_id")).startsWith("in-");
        assertThat(m.getString("affiliate_id")).isEqualTo("aff_report");
        assertThat(m.getString("approval")).isEqualTo("approved");
        conversions.add(m.getString("conversion_id"));
      });
    }
    assertThat(conversions).hasSize(250);
    assertThat(StandardWebhooksNode.verify(secret, batches)).isEqualTo("verified 3");

    Await.until("report completed", Duration.ofSeconds(10),
        () -> "completed".equals(client.admin("GET", "/v1/reports/" + id, null).json().getString("status")));
    JsonObject report = client.admin("GET", "/v1/reports/" + id, null).json();
    assertThat(report.getInteger("total_matches")).isEqualTo(250);
    assertThat(report.getInteger("total_batches")).isEqualTo(3);
    assertThat(report.getInteger("batches_emitted")).isEqualTo(3);
  }

  @Test
  void reportRequestsAreValidatedAndAuthenticated() {
    GatewayClient client = gateway.client();
    Reply tooLong = client.admin("POST", "/v1/reports/attribution",
        new JsonObject().put("start_date", "2025-01-01").put("end_date", "2025-12-31"));
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.json().getString("field")).isEqualTo("end_date");
    assertThat(client.admin("POST", "/v1/reports/attribution",
        new JsonObject().put("start_date", "2025-13-01").put("end_date", "2025-12-31")).status()).isEqualTo(400);
    assertThat(client.admin("POST", "/v1/reports/attribution",
        new JsonObject().put("start_date", "2025-02-01").put("end_date", "2025-01-31")).status()).isEqualTo(400);
    assertThat(client.get("/v1/reports/rpt_x").status()).isEqualTo(401);
    assertThat(client.admin("GET", "/v1/reports/rpt_missing", null).status()).isEqualTo(404);
  }

  private static void seed(String surfaceId, String prefix, int n, String day, boolean attributed) {
    TestBackends.execute("INSERT INTO conversions (id, surface_id, external_id, event_type, gross_minor, currency, "
        + "occurred_at, status, affiliate_id, commission_minor, commission_currency) "
        + "SELECT 'cv_" + prefix + "_" + surfaceId + "_' || g, '" + surfaceId + "', '" + prefix + "-' || g, 'sale', 1000, 'USD', "
        + "timestamptz '" + day + "T12:00:00Z' + g * interval '1 minute', "
        + (attributed ? "'attributed', 'aff_report', 100, 'USD'" : "'unattributed', NULL, 0, NULL")
        + " FROM generate_series(1, " + n + ") g");
  }
}
