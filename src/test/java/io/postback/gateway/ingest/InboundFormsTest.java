package io.postback.gateway.ingest;

import io.postback.gateway.support.Await;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** SPEC §3.2–§3.4: track calls, the classic GET postback and batches, all through the one pipeline. */
class InboundFormsTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;
  private String token;
  private String affiliate;
  private String clickId;

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
    token = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token", null).json()
        .getString("postbackToken");
    affiliate = client.createAffiliate("active");
    client.createRule(surface, "sale", null, 1000, null);
    clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
  }

  long rows(String externalId) {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = ?",
        surface.id(), externalId);
  }

  @Test
  void trackCallUsesTheIdempotencyKeyAsExternalIdAndIsAttributed() {
    String body = "{\"grossMinor\":2000,\"currency\":\"USD\",\"clickId\":\"" + clickId + "\"}";
    Reply r = client.track(surface, "sale", "order-77", body);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("attributed");
    assertThat(r.json().getLong("commissionMinor")).isEqualTo(200);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'order-77' "
        + "AND event_type = 'sale'", surface.id())).isEqualTo(1);
    Reply again = client.track(surface, "sale", "order-77", body);
    assertThat(again.json().getBoolean("duplicate")).isTrue();
    assertThat(again.json().getString("conversionId")).isEqualTo(r.json().getString("conversionId"));
  }

  @Test
  void trackCallWithoutBodyAndWithoutIdempotencyKey() {
    Reply signup = client.track(surface, "signup", "user-1", "");
    assertThat(signup.status()).isEqualTo(200);
    Reply missing = client.track(surface, "signup", null, "");
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().getString("field")).isEqualTo("Idempotency-Key");
  }

  @ParameterizedTest(name = "GET postback with {0}, {1}, {2}")
  @CsvSource({
      "clickid,        txid,        amount",
      "click_id,       tid,         payout",
      "cid,            order_id,    revenue",
      "subid,          external_id, sum",
      "transaction_id, txid,        amount",
  })
  void getPostbackAcceptsEveryAliasFamily(String clickName, String externalName, String amountName) {
    String externalId = "get-" + clickName;
    Reply r = client.get("/v1/postback?surface=" + surface.id() + "&token=" + token + "&" + clickName + "=" + clickId
        + "&" + externalName + "=" + externalId + "&" + amountName + "=49.99&currency=USD&event=sale&status=approved");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("attributed");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(r.json().getLong("commissionMinor")).isEqualTo(500);   // 10 % of 4999 = 499.9 → 500
    assertThat(TestBackends.queryLong("SELECT gross_minor FROM conversions WHERE surface_id = ? AND external_id = ?",
        surface.id(), externalId)).isEqualTo(4999);
  }

  @Test
  void getPostbackWithThePathKeyAndAZeroDecimalCurrency() {
    Reply r = client.get("/v1/postback/" + surface.id() + "/" + token + "?txid=jpy-1&amount=500&currency=JPY");
    assertThat(r.status()).isEqualTo(200);
    assertThat(TestBackends.queryLong("SELECT gross_minor FROM conversions WHERE surface_id = ? AND external_id = 'jpy-1'",
        surface.id())).isEqualTo(500);
  }

  @Test
  void getPostbackWithABadTokenIsAnExplicit401() {
    Reply r = client.get("/v1/postback?surface=" + surface.id() + "&token=pbt_wrong&txid=bad-1&amount=1&currency=USD");
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("bad_token");
    assertThat(rows("bad-1")).isZero();

    Reply none = client.get("/v1/postback?surface=" + surface.id() + "&txid=bad-2&amount=1&currency=USD");
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.error()).isEqualTo("missing_token");
    Reply unknown = client.get("/v1/postback?surface=nope&token=" + token + "&txid=bad-3");
    assertThat(unknown.error()).isEqualTo("unknown_surface");

    // Written after the answers, at most every PostbackLog.WRITE_EVERY: wait for both of this surface.
    JsonArray[] items = new JsonArray[1];
    Await.until("the postback log holds the refused requests", Duration.ofSeconds(10), () -> {
      items[0] = client.admin("GET", "/admin/postback-log?surfaceId=" + surface.id(), null).json().getJsonArray("items");
      return items[0].size() >= 2;
    });
    JsonObject logged = items[0].getJsonObject(1);
    assertThat(logged.getString("externalId")).isEqualTo("bad-1");
    assertThat(logged.getString("error")).isEqualTo("bad_token");
  }

  @Test
  void getPostbackSignedWithAnHmacOfTheQuery() {
    String ts = String.valueOf(System.currentTimeMillis());
    String query = GatewayClient.signedQuery(surface.secret(), ts, ClassicPostbackRoutes.SIGNED_NAMES,
        "surface", surface.id(), "txid", "hmac-1", "amount", "10.00", "currency", "EUR", "utm_source", "tracker");

    assertThat(client.get("/v1/postback?" + query).status()).isEqualTo(200);
    Reply tampered = client.get("/v1/postback?" + query.replace("10.00", "1000.00"));
    assertThat(tampered.status()).isEqualTo(401);
    assertThat(tampered.error()).isEqualTo("bad_signature");
  }

  @Test
  void getPostbackRejectsConflictingAliasesAndBadAmounts() {
    String base = "/v1/postback?surface=" + surface.id() + "&token=" + token;
    Reply conflict = client.get(base + "&txid=a&order_id=b&amount=1&currency=USD");
    assertThat(conflict.status()).isEqualTo(400);
    assertThat(conflict.json().getString("field")).isEqualTo("txid");
    Reply decimals = client.get(base + "&txid=c&amount=1.999&currency=USD");
    assertThat(decimals.json().getString("field")).isEqualTo("amount");
    Reply status = client.get(base + "&txid=d&amount=1&currency=USD&status=maybe");
    assertThat(status.json().getString("field")).isEqualTo("status");
    Reply noId = client.get(base + "&amount=1&currency=USD");
    assertThat(noId.json().getString("field")).isEqualTo("externalId");
  }

  @Test
  void batchWithValidDuplicateAndInvalidItemsIsAnsweredPerItemInOrder() {
    client.postback(surface, "{\"externalId\":\"b-old\",\"eventType\":\"signup\"}");
    JsonArray items = new JsonArray()
        .add(new JsonObject().put("externalId", "b-1").put("eventType", "sale").put("grossMinor", 1000)
            .put("currency", "USD").put("clickId", clickId))
        .add(new JsonObject().put("externalId", "b-old").put("eventType", "signup"))
        .add(new JsonObject().put("externalId", "b-2").put("eventType", "sale").put("grossMinor", -5).put("currency", "USD"))
        .add(new JsonObject().put("externalId", "b-1").put("eventType", "sale").put("grossMinor", 1000).put("currency", "USD"))
        .add(42)
        .add(new JsonObject().put("externalId", "b-3").put("eventType", "signup"));

    Reply r = client.signedPost("/v1/conversions/batch", surface, "application/json", items.encode());

    assertThat(r.status()).isEqualTo(200);
    JsonObject body = r.json();
    assertThat(body.getInteger("accepted")).isEqualTo(2);
    assertThat(body.getInteger("duplicates")).isEqualTo(2);
    assertThat(body.getInteger("rejected")).isEqualTo(2);
    JsonArray answers = body.getJsonArray("items");
    assertThat(answers).hasSize(6);
    for (int i = 0; i < 6; i++) {
      assertThat(answers.getJsonObject(i).getInteger("index")).isEqualTo(i);
    }
    assertThat(answers.getJsonObject(0).getString("status")).isEqualTo("attributed");
    assertThat(answers.getJsonObject(0).getBoolean("duplicate")).isFalse();
    assertThat(answers.getJsonObject(1).getBoolean("duplicate")).isTrue();
    assertThat(answers.getJsonObject(2).getString("error")).isEqualTo("invalid_field");
    assertThat(answers.getJsonObject(2).getString("field")).isEqualTo("grossMinor");
    assertThat(answers.getJsonObject(3).getBoolean("duplicate")).isTrue();
    assertThat(answers.getJsonObject(3).getString("conversionId")).isEqualTo(answers.getJsonObject(0).getString("conversionId"));
    assertThat(answers.getJsonObject(4).getString("error")).isEqualTo("malformed_json");
    assertThat(answers.getJsonObject(5).getBoolean("duplicate")).isFalse();
    assertThat(rows("b-1")).isEqualTo(1);
    assertThat(rows("b-2")).isZero();
  }

  @Test
  void ndjsonBatchIsAccepted() {
    String body = "{\"externalId\":\"n-1\",\"eventType\":\"signup\"}\n\n{\"externalId\":\"n-2\",\"eventType\":\"signup\"}\n";
    Reply r = client.signedPost("/v1/conversions/batch", surface, "application/x-ndjson", body);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getInteger("accepted")).isEqualTo(2);
    assertThat(rows("n-2")).isEqualTo(1);
  }

  @Test
  void batchOverAThousandItemsIsRefusedWhole() {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < 1001; i++) {
      body.append("{\"externalId\":\"x-").append(i).append("\",\"eventType\":\"signup\"}\n");
    }
    Reply r = client.signedPost("/v1/conversions/batch", surface, "application/x-ndjson", body.toString());
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.error()).isEqualTo("too_many_items");
    assertThat(rows("x-0")).isZero();
  }

  @Test
  void batchWithABadSignatureRecordsNothing() {
    String body = "[{\"externalId\":\"s-1\",\"eventType\":\"signup\"}]";
    Reply r = client.raw("/v1/conversions/batch", surface.id(), String.valueOf(System.currentTimeMillis()),
        "ab".repeat(32), "application/json", body);
    assertThat(r.status()).isEqualTo(401);
    assertThat(rows("s-1")).isZero();
  }

  @Test
  void refundInTheSameBatchAsItsOriginalIsApplied() {
    client.createLink(surface, affiliate, "https://shop.example/", "BATCH");
    JsonArray items = new JsonArray()
        .add(new JsonObject().put("externalId", "ro-1").put("eventType", "sale").put("grossMinor", 10000)
            .put("currency", "USD").put("promoCode", "BATCH"))
        .add(new JsonObject().put("externalId", "rr-1").put("eventType", "refund").put("refundOf", "ro-1"));
    Reply r = client.signedPost("/v1/conversions/batch", surface, "application/json", items.encode());
    assertThat(r.json().getJsonArray("items").getJsonObject(1).getString("status")).isEqualTo("refunded");
    assertThat(r.json().getJsonArray("items").getJsonObject(1).getLong("commissionMinor")).isEqualTo(-1000);
  }
}
