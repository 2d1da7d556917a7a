package io.postback.gateway.attribution;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPEC §3.3 {@code status}: pending and approved conversions earn, rejected ones earn nothing, and a repeat
 * with a different status is a transition (approved, or rejected with the net commission reversed).
 */
class ApprovalTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;
  private String token;
  private String affiliate;

  @BeforeEach
  void newProgram() {
    client = gateway.client();
    surface = client.createSurface();
    token = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token", null).json()
        .getString("postbackToken");
    affiliate = client.createAffiliate("active");
    // 10 % of the gross, attributed by promo code.
    client.createRule(surface, "sale", null, 1000, null);
    client.createLink(surface, affiliate, "https://shop.example/", "CODE");
  }

  Reply get(String txid, String amount, String status) {
    return client.get("/v1/postback?surface=" + surface.id() + "&token=" + token + "&txid=" + txid + "&amount=" + amount
        + "&currency=USD&event=sale&promo_code=CODE" + (status == null ? "" : "&status=" + status));
  }

  Reply refund(String externalId, String refundOf, Long gross) {
    return client.postback(surface, "{\"externalId\":\"" + externalId + "\",\"eventType\":\"refund\",\"refundOf\":\""
        + refundOf + "\"" + (gross == null ? "" : ",\"grossMinor\":" + gross + ",\"currency\":\"USD\"") + "}");
  }

  long net(String txid) {
    return TestBackends.queryLong("SELECT COALESCE(sum(c.amount_minor), 0) FROM commissions c JOIN conversions v "
        + "ON v.id = c.conversion_id WHERE v.surface_id = ? AND v.external_id = ?", surface.id(), txid);
  }

  long entries(String txid, String kind) {
    return TestBackends.queryLong("SELECT count(*) FROM commissions c JOIN conversions v ON v.id = c.conversion_id "
        + "WHERE v.surface_id = ? AND v.external_id = ? AND c.kind = ?", surface.id(), txid, kind);
  }

  long events(String type, String conversionId) {
    return TestBackends.queryLong("SELECT count(*) FROM events WHERE type = ? AND surface_id = ? "
        + "AND data->>'conversionId' = ?", type, surface.id(), conversionId);
  }

  long stored(String txid) {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = ?",
        surface.id(), txid);
  }

  String approval(String txid) {
    try (var c = TestBackends.jdbc(); var st = c.prepareStatement(
        "SELECT approval FROM conversions WHERE surface_id = ? AND external_id = ?")) {
      st.setString(1, surface.id());
      st.setString(2, txid);
      try (var rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void formsWithoutStatusAreApproved() {
    Reply r = client.postback(surface, "{\"externalId\":\"j-1\",\"eventType\":\"sale\",\"grossMinor\":10000,"
        + "\"currency\":\"USD\",\"promoCode\":\"CODE\"}");
    assertThat(r.json().getString("approval")).isEqualTo("approved");
    assertThat(r.json().getLong("commissionMinor")).isEqualTo(1000);
    assertThat(get("g-1", "100", null).json().getString("approval")).isEqualTo("approved");
    assertThat(approval("j-1")).isEqualTo("approved");
    assertThat(net("j-1")).isEqualTo(1000);
    // A repeat without a status changes nothing.
    Reply again = get("g-1", "100", null);
    assertThat(again.json().getBoolean("duplicate")).isTrue();
    assertThat(again.json().getString("approval")).isEqualTo("approved");
  }

  @Test
  void pendingThenApproved() {
    Reply first = get("p-1", "100", "pending");
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json().getString("approval")).isEqualTo("pending");
    assertThat(first.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(first.json().getLong("commissionMinor")).isEqualTo(1000);
    String id = first.json().getString("conversionId");
    assertThat(net("p-1")).isEqualTo(1000);

    Reply approved = get("p-1", "100", "confirmed");
    assertThat(approved.status()).isEqualTo(200);
    assertThat(approved.json().getBoolean("duplicate")).isTrue();
    assertThat(approved.json().getString("approval")).isEqualTo("approved");
    assertThat(approved.json().getString("conversionId")).isEqualTo(id);
    assertThat(approved.json().getLong("commissionMinor")).isEqualTo(1000);
    assertThat(approval("p-1")).isEqualTo("approved");
    assertThat(events("conversion.approved", id)).isEqualTo(1);
    assertThat(net("p-1")).isEqualTo(1000);
    assertThat(entries("p-1", "commission")).isEqualTo(1);
    assertThat(entries("p-1", "reversal")).isZero();

    // Said again: a plain duplicate, no second event.
    Reply again = get("p-1", "100", "approved");
    assertThat(again.json().getString("approval")).isEqualTo("approved");
    assertThat(events("conversion.approved", id)).isEqualTo(1);
  }

  @Test
  void pendingThenRejectedReversesTheCommission() {
    String id = get("p-2", "100", "hold").json().getString("conversionId");
    assertThat(net("p-2")).isEqualTo(1000);

    Reply rejected = get("p-2", "100", "declined");
    assertThat(rejected.status()).isEqualTo(200);
    assertThat(rejected.json().getBoolean("duplicate")).isTrue();
    assertThat(rejected.json().getString("approval")).isEqualTo("rejected");
    assertThat(rejected.json().getLong("commissionMinor")).isZero();
    assertThat(rejected.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(net("p-2")).isZero();
    assertThat(entries("p-2", "reversal")).isEqualTo(1);
    assertThat(events("conversion.rejected", id)).isEqualTo(1);
    assertThat(events("commission.reversed", id)).isEqualTo(1);
    assertThat(TestBackends.queryLong("SELECT (data->>'amountMinor')::int8 FROM events WHERE type = 'commission.reversed' "
        + "AND data->>'conversionId' = ?", id)).isEqualTo(-1000);
    assertThat(approval("p-2")).isEqualTo("rejected");
    // The admin view shows the approval and both ledger entries.
    var item = client.admin("GET", "/admin/conversions?surfaceId=" + surface.id() + "&externalId=p-2", null).json()
        .getJsonArray("items").getJsonObject(0);
    assertThat(item.getString("approval")).isEqualTo("rejected");
    assertThat(item.getLong("commissionMinor")).isZero();
    assertThat(item.getJsonArray("commissionEntries").size()).isEqualTo(2);
  }

  @Test
  void arrivesRejectedIsAttributedButEarnsNothing() {
    Reply r = get("r-1", "100", "rejected");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getBoolean("duplicate")).isFalse();
    assertThat(r.json().getString("status")).isEqualTo("attributed");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(r.json().getLong("commissionMinor")).isZero();
    assertThat(r.json().getString("approval")).isEqualTo("rejected");
    String id = r.json().getString("conversionId");
    assertThat(entries("r-1", "commission")).isZero();
    assertThat(entries("r-1", "reversal")).isZero();
    assertThat(events("conversion.rejected", id)).isEqualTo(1);
    assertThat(events("commission.created", id)).isZero();
    assertThat(events("commission.reversed", id)).isZero();
    assertThat(approval("r-1")).isEqualTo("rejected");
  }

  @Test
  void approvedPartlyRefundedThenRejectedGoesExactlyToZero() {
    String id = get("a-1", "100", "approved").json().getString("conversionId");
    assertThat(refund("rf-1", "a-1", 3_000L).json().getLong("commissionMinor")).isEqualTo(-300);
    assertThat(net("a-1")).isEqualTo(700);

    Reply rejected = get("a-1", "100", "rejected");
    assertThat(rejected.json().getString("approval")).isEqualTo("rejected");
    assertThat(rejected.json().getLong("commissionMinor")).isZero();
    assertThat(net("a-1")).isZero();
    assertThat(TestBackends.queryLong("SELECT (data->>'commissionReversedMinor')::int8 FROM events "
        + "WHERE type = 'conversion.rejected' AND data->>'conversionId' = ?", id)).isEqualTo(700);

    // A refund after the rejection reverses nothing more: the net never goes below zero.
    Reply late = refund("rf-2", "a-1", 7_000L);
    assertThat(late.status()).isEqualTo(200);
    assertThat(late.json().getString("status")).isEqualTo("refunded");
    assertThat(late.json().getLong("commissionMinor")).isZero();
    assertThat(net("a-1")).isZero();
    assertThat(entries("a-1", "reversal")).isEqualTo(2);
  }

  @Test
  void refundAfterRejectionReversesNothing() {
    get("a-2", "100", "pending");
    get("a-2", "100", "rejected");
    assertThat(net("a-2")).isZero();
    Reply full = refund("rf-3", "a-2", null);
    assertThat(full.json().getLong("commissionMinor")).isZero();
    assertThat(net("a-2")).isZero();
    assertThat(entries("a-2", "reversal")).isEqualTo(1);
  }

  @Test
  void rejectedIsFinalAndApprovedDoesNotGoBackToPending() {
    String id = get("f-1", "100", "rejected").json().getString("conversionId");
    Reply approved = get("f-1", "100", "approved");
    assertThat(approved.status()).isEqualTo(200);
    assertThat(approved.json().getBoolean("duplicate")).isTrue();
    assertThat(approved.json().getString("approval")).isEqualTo("rejected");
    assertThat(approved.json().getLong("commissionMinor")).isZero();
    assertThat(approval("f-1")).isEqualTo("rejected");
    assertThat(events("conversion.approved", id)).isZero();
    assertThat(entries("f-1", "commission")).isZero();

    get("f-2", "100", "approved");
    Reply pending = get("f-2", "100", "pending");
    assertThat(pending.json().getBoolean("duplicate")).isTrue();
    assertThat(pending.json().getString("approval")).isEqualTo("approved");
    assertThat(approval("f-2")).isEqualTo("approved");
    assertThat(net("f-2")).isEqualTo(1000);
  }

  @Test
  void transitionIsAppliedWhenRedisHoldsTheCachedOutcome() {
    String id = get("c-1", "100", "pending").json().getString("conversionId");
    // Redis holds the first outcome (remembered right after the answer, best effort); the transition
    // must not be swallowed by it.
    String key = "dd:" + surface.id() + ":c-1";
    Await.until("outcome remembered", Duration.ofSeconds(5),
        () -> String.valueOf(TestBackends.redis("GET", key)).contains("\"approval\":\"pending\""));
    Reply approved = get("c-1", "100", "approved");
    assertThat(approved.json().getString("approval")).isEqualTo("approved");
    assertThat(events("conversion.approved", id)).isEqualTo(1);
    // The cached outcome is overwritten with the state after the transition.
    Await.until("transition remembered", Duration.ofSeconds(5),
        () -> String.valueOf(TestBackends.redis("GET", key)).contains("\"approval\":\"approved\""));
    Reply rejected = get("c-1", "100", "rejected");
    assertThat(rejected.json().getString("approval")).isEqualTo("rejected");
    assertThat(net("c-1")).isZero();
    Reply plain = get("c-1", "100", null);
    assertThat(plain.json().getString("approval")).isEqualTo("rejected");
    assertThat(plain.json().getLong("commissionMinor")).isZero();
  }

  @Test
  void transitionIsAppliedWhenRedisLostTheOutcome() {
    String id = get("c-2", "100", "pending").json().getString("conversionId");
    TestBackends.redis("FLUSHALL");
    Reply rejected = get("c-2", "100", "reject");
    assertThat(rejected.status()).isEqualTo(200);
    assertThat(rejected.json().getBoolean("duplicate")).isTrue();
    assertThat(rejected.json().getString("approval")).isEqualTo("rejected");
    assertThat(rejected.json().getString("conversionId")).isEqualTo(id);
    assertThat(net("c-2")).isZero();
    assertThat(events("conversion.rejected", id)).isEqualTo(1);
    assertThat(events("commission.reversed", id)).isEqualTo(1);
    assertThat(stored("c-2")).isEqualTo(1);
    TestBackends.redis("FLUSHALL");
    Reply again = get("c-2", "100", "rejected");
    assertThat(again.json().getString("approval")).isEqualTo("rejected");
    assertThat(events("conversion.rejected", id)).isEqualTo(1);
    assertThat(entries("c-2", "reversal")).isEqualTo(1);
  }

  @Test
  void concurrentRefundsAndRejectionNeverTakeTheNetBelowZero() {
    get("k-1", "100", "approved");
    java.util.List<java.util.concurrent.CompletableFuture<Reply>> refunds = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      refunds.add(client.postbackAsync(surface, "{\"externalId\":\"rfk-" + i + "\",\"eventType\":\"refund\","
          + "\"refundOf\":\"k-1\",\"grossMinor\":1500,\"currency\":\"USD\"}"));
    }
    Reply rejected = get("k-1", "100", "rejected");
    refunds.forEach(java.util.concurrent.CompletableFuture::join);
    assertThat(rejected.json().getString("approval")).isEqualTo("rejected");
    assertThat(net("k-1")).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM commissions c JOIN conversions v ON v.id = c.conversion_id "
        + "WHERE v.surface_id = ? AND v.external_id = 'k-1' AND c.kind = 'reversal' AND c.amount_minor >= 0",
        surface.id())).isZero();
  }

  @Test
  void unknownStatusIsRefusedNamingTheField() {
    Reply r = get("u-1", "100", "maybe");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("field")).isEqualTo("status");
    assertThat(stored("u-1")).isZero();
  }
}
