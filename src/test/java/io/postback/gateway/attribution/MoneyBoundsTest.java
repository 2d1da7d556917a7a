package io.postback.gateway.attribution;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 8 §3: amounts are bounded (grossMinor at most 10^14, in every form) and commission arithmetic
 * is exact inside the bound; refunds stay in their original's currency, and occurredAt is bounded
 * (refunds backdated at most refundBackdateLimit, nothing before 2000, originals at most an hour ahead).
 */
class MoneyBoundsTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;
  private String affiliate;
  private String token;

  @BeforeEach
  void newProgram() {
    client = gateway.client();
    surface = client.createSurface();
    affiliate = client.createAffiliate("active");
    client.createRule(surface, "sale", null, 1000, null);
    client.createLink(surface, affiliate, "https://shop.example/", "CODE");
    token = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token", null).json().getString("postbackToken");
  }

  Reply sale(String externalId, long gross, String currency) {
    return client.postback(surface, "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":" + gross
        + ",\"currency\":\"" + currency + "\",\"promoCode\":\"CODE\"}");
  }

  long owed() {
    return TestBackends.queryLong("SELECT COALESCE(sum(amount_minor), 0) FROM commissions WHERE affiliate_id = ?", affiliate);
  }

  long conversions() {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id());
  }

  @Test
  void aGrossBeyondTheBoundIsRefusedInEveryFormAndOneInsideEarnsExactly() {
    // 9223372036854775 at 10 % answered a negative commission.
    Reply json = sale("big-1", 9_223_372_036_854_775L, "USD");
    assertThat(json.status()).isEqualTo(400);
    assertThat(json.json().getString("field")).isEqualTo("grossMinor");
    Reply justOver = sale("big-2", 100_000_000_000_001L, "USD");
    assertThat(justOver.json().getString("field")).isEqualTo("grossMinor");
    Reply get = client.get("/v1/postback?surface=" + surface.id() + "&token=" + token
        + "&txid=big-3&amount=92233720368547.75&currency=USD&promo_code=CODE");
    assertThat(get.status()).isEqualTo(400);
    assertThat(get.json().getString("field")).isEqualTo("amount");
    Reply track = client.track(surface, "sale", "big-4", "{\"grossMinor\":9223372036854775,\"currency\":\"USD\"}");
    assertThat(track.json().getString("field")).isEqualTo("grossMinor");
    Reply batch = client.signedPost("/v1/conversions/batch", surface, "application/json", new JsonArray()
        .add(new JsonObject().put("externalId", "big-5").put("eventType", "sale").put("grossMinor", 9_223_372_036_854_775L)
            .put("currency", "USD"))
        .add(new JsonObject().put("externalId", "ok-5").put("eventType", "sale").put("grossMinor", 100).put("currency", "USD"))
        .encode());
    assertThat(batch.json().getJsonArray("items").getJsonObject(0).getString("field")).isEqualTo("grossMinor");
    assertThat(batch.json().getJsonArray("items").getJsonObject(1).containsKey("error")).isFalse();
    assertThat(conversions()).isEqualTo(1);

    Reply atTheBound = sale("bound-1", 100_000_000_000_000L, "USD");
    assertThat(atTheBound.status()).isEqualTo(200);
    assertThat(atTheBound.json().getLong("commissionMinor")).isEqualTo(10_000_000_000_000L);
    Reply odd = sale("bound-2", 99_999_999_999_995L, "USD");
    assertThat(odd.json().getLong("commissionMinor")).isEqualTo(10_000_000_000_000L);   // 9,999,999,999,999.5 → up
    assertThat(owed()).isEqualTo(20_000_000_000_000L);
  }

  @Test
  void anIdrSaleOf96MillionWithA99PercentRefundIsReversedExactly() {
    client.createRule(surface, "sale", null, 2000, null);
    Reply sale = client.get("/v1/postback?surface=" + surface.id() + "&token=" + token
        + "&txid=idr-1&amount=96000000.00&currency=IDR&promo_code=CODE");
    assertThat(sale.status()).as(sale.body()).isEqualTo(200);
    assertThat(sale.json().getLong("commissionMinor")).isEqualTo(1_920_000_000L);   // 20 % of 9,600,000,000

    Reply refund = client.postback(surface, "{\"externalId\":\"idr-1-r\",\"eventType\":\"refund\",\"refundOf\":\"idr-1\","
        + "\"grossMinor\":9504000000,\"currency\":\"IDR\"}");

    assertThat(refund.status()).as(refund.body()).isEqualTo(200);
    assertThat(refund.json().getString("status")).isEqualTo("refunded");
    assertThat(refund.json().getLong("commissionMinor")).isEqualTo(-1_900_800_000L);
    assertThat(owed()).isEqualTo(19_200_000L);
    Reply rest = client.postback(surface, "{\"externalId\":\"idr-1-r2\",\"eventType\":\"refund\",\"refundOf\":\"idr-1\","
        + "\"grossMinor\":96000000}");
    assertThat(rest.json().getLong("commissionMinor")).as("no currency: the original's").isEqualTo(-19_200_000L);
    assertThat(owed()).isZero();
  }

  @Test
  void aRefundInAnotherCurrencyThanItsOriginalIsRefused() {
    sale("cur-1", 10_000, "USD");
    Reply eur = client.postback(surface, "{\"externalId\":\"cur-1-r\",\"eventType\":\"refund\",\"refundOf\":\"cur-1\","
        + "\"grossMinor\":5000,\"currency\":\"EUR\"}");
    assertThat(eur.status()).isEqualTo(400);
    assertThat(eur.json().getString("field")).isEqualTo("currency");
    assertThat(owed()).isEqualTo(1000);
    assertThat(conversions()).isEqualTo(1);

    Reply none = client.postback(surface, "{\"externalId\":\"cur-1-r\",\"eventType\":\"refund\",\"refundOf\":\"cur-1\","
        + "\"grossMinor\":5000}");
    assertThat(none.status()).isEqualTo(200);
    assertThat(none.json().getLong("commissionMinor")).isEqualTo(-500);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'cur-1-r' "
        + "AND currency = 'USD'", surface.id())).isEqualTo(1);
  }

  @Test
  void aRefundThatWaitedForAnOriginalInAnotherCurrencyReversesNothing() {
    Reply early = client.postback(surface, "{\"externalId\":\"cur-2-r\",\"eventType\":\"refund\",\"refundOf\":\"cur-2\","
        + "\"grossMinor\":5000,\"currency\":\"EUR\"}");
    assertThat(early.json().getString("status")).isEqualTo("refund_pending_original");

    sale("cur-2", 10_000, "USD");

    assertThat(owed()).isEqualTo(1000);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'cur-2-r' "
        + "AND status = 'refund_currency_mismatch' AND commission_minor = 0", surface.id())).isEqualTo(1);
  }

  @Test
  void aRefundBackdatedBeyondTheLimitIsRefused() {
    sale("bd-1", 10_000, "USD");
    String eightDaysAgo = Instant.now().minus(8, ChronoUnit.DAYS).toString();
    Reply backdated = client.postback(surface, "{\"externalId\":\"bd-1-r\",\"eventType\":\"refund\",\"refundOf\":\"bd-1\","
        + "\"occurredAt\":\"" + eightDaysAgo + "\"}");
    assertThat(backdated.status()).isEqualTo(400);
    assertThat(backdated.json().getString("field")).isEqualTo("occurredAt");
    assertThat(owed()).isEqualTo(1000);

    String sixDaysAgo = Instant.now().minus(6, ChronoUnit.DAYS).toString();
    Reply weekly = client.postback(surface, "{\"externalId\":\"bd-1-r\",\"eventType\":\"refund\",\"refundOf\":\"bd-1\","
        + "\"occurredAt\":\"" + sixDaysAgo + "\"}");
    assertThat(weekly.status()).isEqualTo(200);
    assertThat(owed()).isZero();
  }

  @Test
  void occurredAtBeforeTheYear2000OrFarAheadIsRefused() {
    for (String occurredAt : new String[] {"-5000-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "+999999999-12-31T23:59:59Z",
        Instant.now().plus(2, ChronoUnit.HOURS).toString()}) {
      Reply r = client.postback(surface, "{\"externalId\":\"old-1\",\"eventType\":\"signup\",\"occurredAt\":\"" + occurredAt + "\"}");
      assertThat(r.status()).as(occurredAt).isEqualTo(400);
      assertThat(r.json().getString("field")).isEqualTo("occurredAt");
    }
    Reply get = client.get("/v1/postback?surface=" + surface.id() + "&token=" + token + "&txid=old-2&occurred_at=-5000-01-01T00:00:00Z");
    assertThat(get.json().getString("field")).isEqualTo("occurredAt");
    assertThat(conversions()).isZero();
    Reply y2k = client.postback(surface, "{\"externalId\":\"old-3\",\"eventType\":\"signup\",\"occurredAt\":\"2000-01-01T00:00:00Z\"}");
    assertThat(y2k.status()).isEqualTo(200);
  }
}
