package io.postback.gateway.attribution;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** SPEC §3.5: refunds claw commission back, pro rata, never more than was earned; the ledger always adds up. */
class RefundTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;
  private String affiliate;

  @BeforeEach
  void newProgram() {
    client = gateway.client();
    surface = client.createSurface();
    affiliate = client.createAffiliate("active");
    // 10 % of the gross; attribution by promo code keeps these tests independent of click timing.
    client.createRule(surface, "sale", null, 1000, null);
    client.createLink(surface, affiliate, "https://shop.example/", "CODE");
  }

  Reply sale(String externalId, long gross) {
    return client.postback(surface, "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":"
        + gross + ",\"currency\":\"USD\",\"promoCode\":\"CODE\"}");
  }

  Reply refund(String externalId, String refundOf, Long gross) {
    return client.postback(surface, "{\"externalId\":\"" + externalId + "\",\"eventType\":\"refund\",\"refundOf\":\""
        + refundOf + "\"" + (gross == null ? "" : ",\"grossMinor\":" + gross + ",\"currency\":\"USD\"") + "}");
  }

  /** What the affiliate is owed: the sum of their ledger entries. */
  long owed() {
    return TestBackends.queryLong("SELECT COALESCE(sum(amount_minor), 0) FROM commissions WHERE affiliate_id = ?", affiliate);
  }

  long entries(String kind) {
    return TestBackends.queryLong("SELECT count(*) FROM commissions WHERE affiliate_id = ? AND kind = ?", affiliate, kind);
  }

  @Test
  void fullRefundInsideTheWindowReversesTheWholeCommission() {
    assertThat(sale("o-1", 10_000).json().getLong("commissionMinor")).isEqualTo(1000);
    assertThat(owed()).isEqualTo(1000);

    Reply r = refund("rf-1", "o-1", null);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("refunded");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(r.json().getLong("commissionMinor")).isEqualTo(-1000);
    assertThat(owed()).isZero();
    assertThat(entries("reversal")).isEqualTo(1);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'commission.reversed' "
        + "AND data->>'affiliateId' = ?", affiliate)).isEqualTo(1);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'conversion.refunded' "
        + "AND data->>'refundExternalId' = 'rf-1' AND surface_id = ?", surface.id())).isEqualTo(1);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'conversion.created' "
        + "AND data->>'externalId' = 'rf-1' AND data->>'status' = 'refunded' AND surface_id = ?", surface.id())).isEqualTo(1);
  }

  @Test
  void partialRefundsArePaidBackProRataAndNeverMoreThanWasEarned() {
    sale("o-2", 10_000);

    assertThat(refund("rf-a", "o-2", 3_000L).json().getLong("commissionMinor")).isEqualTo(-300);
    assertThat(owed()).isEqualTo(700);
    assertThat(refund("rf-b", "o-2", 3_333L).json().getLong("commissionMinor")).isEqualTo(-333);
    assertThat(owed()).isEqualTo(367);
    // 12,000 refunded of 10,000: capped at what is left of the commission
    assertThat(refund("rf-c", "o-2", 5_667L).json().getLong("commissionMinor")).isEqualTo(-367);
    assertThat(owed()).isZero();
    Reply more = refund("rf-d", "o-2", 1_000L);
    assertThat(more.json().getString("status")).isEqualTo("refunded");
    assertThat(more.json().getLong("commissionMinor")).isZero();
    assertThat(owed()).isZero();
    assertThat(entries("reversal")).isEqualTo(3);
  }

  @Test
  void partialRefundsThatAddUpToTheWholeReverseExactlyTheCommission() {
    client.createRule(surface, "sale", null, 333, null);
    assertThat(sale("o-3", 1_000).json().getLong("commissionMinor")).isEqualTo(33);   // 33.3 → 33
    long reversed = 0;
    for (int i = 0; i < 3; i++) {
      reversed -= refund("rf3-" + i, "o-3", i < 2 ? 333L : 334L).json().getLong("commissionMinor");
    }
    assertThat(reversed).isEqualTo(33);
    assertThat(owed()).isZero();
  }

  @Test
  void concurrentPartialRefundsNeverReverseMoreThanWasEarned() {
    sale("o-4", 10_000);
    List<CompletableFuture<Reply>> refunds = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      refunds.add(client.postbackAsync(surface, "{\"externalId\":\"rf4-" + i + "\",\"eventType\":\"refund\","
          + "\"refundOf\":\"o-4\",\"grossMinor\":2000,\"currency\":\"USD\"}"));
    }
    refunds.forEach(CompletableFuture::join);
    assertThat(owed()).isZero();
    assertThat(TestBackends.queryLong("SELECT -sum(amount_minor) FROM commissions WHERE kind = 'reversal' "
        + "AND affiliate_id = ?", affiliate)).isEqualTo(1000);
  }

  @Test
  void refundOutsideTheRefundWindowIsRecordedAndTheCommissionStands() {
    client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("refundWindowSeconds", 60));
    String tenMinutesAgo = Instant.now().minus(10, ChronoUnit.MINUTES).toString();
    client.postback(surface, "{\"externalId\":\"o-5\",\"eventType\":\"sale\",\"grossMinor\":10000,\"currency\":\"USD\","
        + "\"promoCode\":\"CODE\",\"occurredAt\":\"" + tenMinutesAgo + "\"}");

    Reply r = refund("rf-5", "o-5", null);

    assertThat(r.json().getString("status")).isEqualTo("refund_outside_window");
    assertThat(r.json().getLong("commissionMinor")).isZero();
    assertThat(owed()).isEqualTo(1000);
    assertThat(entries("reversal")).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'rf-5' "
        + "AND status = 'refund_outside_window'", surface.id())).isEqualTo(1);
  }

  @Test
  void refundArrivingBeforeItsOriginalIsKeptAndAppliedWhenTheOriginalArrives() {
    Reply early = refund("rf-6", "o-6", 5_000L);
    assertThat(early.status()).isEqualTo(200);
    assertThat(early.json().getString("status")).isEqualTo("refund_pending_original");
    assertThat(early.json().getLong("commissionMinor")).isZero();

    Reply original = sale("o-6", 10_000);

    assertThat(original.json().getString("status")).isEqualTo("attributed");
    assertThat(original.json().getLong("commissionMinor")).isEqualTo(1000);
    assertThat(owed()).isEqualTo(500);
    assertThat(TestBackends.queryLong("SELECT commission_minor FROM conversions WHERE surface_id = ? "
        + "AND external_id = 'rf-6' AND status = 'refunded' AND affiliate_id = ?", surface.id(), affiliate)).isEqualTo(-500);
    assertThat(entries("reversal")).isEqualTo(1);
  }

  @Test
  void refundThatRacedItsOriginalIsAppliedByTheSweeper() throws Exception {
    sale("o-race", 10_000);
    // As if the refund had committed concurrently with its original, neither seeing the other.
    TestBackends.execute("INSERT INTO conversions (id, surface_id, external_id, event_type, occurred_at, received_at, "
        + "refund_of, status) VALUES ('cv_race_" + surface.id() + "', '" + surface.id() + "', 'rf-race', 'refund', now(), "
        + "now() - interval '3 seconds', 'o-race', 'refund_pending_original')");

    long deadline = System.currentTimeMillis() + 15_000;
    while (owed() != 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
    }
    assertThat(owed()).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'rf-race' "
        + "AND status = 'refunded' AND commission_minor = -1000", surface.id())).isEqualTo(1);
  }

  @Test
  void refundOfAnUnattributedConversionReversesNothing() {
    Reply original = client.postback(surface, "{\"externalId\":\"o-7\",\"eventType\":\"sale\",\"grossMinor\":10000,"
        + "\"currency\":\"USD\"}");
    assertThat(original.json().getString("status")).isEqualTo("unattributed");

    Reply r = refund("rf-7", "o-7", null);

    assertThat(r.json().getString("status")).isEqualTo("refunded");
    assertThat(r.json().getString("affiliateId")).isNull();
    assertThat(r.json().getLong("commissionMinor")).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM commissions WHERE surface_id = ?", surface.id())).isZero();
  }

  @Test
  void repeatedRefundIsADuplicateAndReversesOnce() {
    sale("o-8", 10_000);
    Reply first = refund("rf-8", "o-8", 5_000L);
    Reply again = refund("rf-8", "o-8", 5_000L);
    TestBackends.redis("FLUSHALL");
    Reply afterRedisForgot = refund("rf-8", "o-8", 5_000L);

    assertThat(again.json().getBoolean("duplicate")).isTrue();
    assertThat(afterRedisForgot.json().getBoolean("duplicate")).isTrue();
    assertThat(afterRedisForgot.json().getLong("commissionMinor")).isEqualTo(first.json().getLong("commissionMinor"));
    assertThat(owed()).isEqualTo(500);
  }

  @Test
  void refundNamingARefundIsRejected() {
    sale("o-9", 10_000);
    refund("rf-9", "o-9", 1_000L);
    Reply r = refund("rf-9b", "rf-9", null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("field")).isEqualTo("refundOf");
  }

  @Test
  void ledgerEndpointShowsEntriesAndWhatTheAffiliateIsOwed() {
    sale("o-10", 10_000);
    refund("rf-10", "o-10", 2_500L);
    Reply r = client.admin("GET", "/admin/affiliates/" + affiliate + "/commissions", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonObject("owedMinor").getLong("USD")).isEqualTo(750);
    assertThat(r.json().getJsonArray("entries")).hasSize(2);

    Reply lookedUp = client.admin("GET", "/admin/conversions?surfaceId=" + surface.id() + "&externalId=o-10", null);
    assertThat(lookedUp.json().getJsonArray("items").getJsonObject(0).getJsonArray("commissionEntries")).hasSize(2);
  }
}
