package io.postback.gateway.ingest;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** SPEC §3.1 over a real socket, real Postgres and real Redis. */
class SignedPostbackTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
  }

  static String sale(String externalId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":4999,\"currency\":\"USD\"}";
  }

  long rows(String externalId) {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = ?",
        surface.id(), externalId);
  }

  @Test
  void validPostbackIsCommittedAndAnswered() {
    Reply r = client.postback(surface, "{\"externalId\":\"o-1\",\"eventType\":\"sale\",\"grossMinor\":4999,"
        + "\"currency\":\"USD\",\"occurredAt\":\"2026-01-31T12:00:00Z\",\"metadata\":{\"sku\":\"gem-pack\",\"qty\":[1,2]}}");

    assertThat(r.status()).isEqualTo(200);
    JsonObject body = r.json();
    assertThat(body.getString("status")).isEqualTo("unattributed");
    assertThat(body.getBoolean("duplicate")).isFalse();
    assertThat(body.getString("conversionId")).startsWith("cv_");
    assertThat(rows("o-1")).isEqualTo(1);
    assertThat(TestBackends.queryLong("SELECT gross_minor FROM conversions WHERE id = ?", body.getString("conversionId")))
        .isEqualTo(4999);
    assertThat(TestBackends.queryLong(
        "SELECT count(*) FROM conversions WHERE id = ? AND metadata = '{\"sku\":\"gem-pack\",\"qty\":[1,2]}'::jsonb "
            + "AND occurred_at = '2026-01-31T12:00:00Z'", body.getString("conversionId"))).isEqualTo(1);
  }

  @Test
  void acceptedConversionWritesItsEventInTheSameCommit() {
    Reply r = client.postback(surface, sale("o-evt"));
    String id = r.json().getString("conversionId");
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'conversion.created' "
        + "AND data->>'conversionId' = ? AND data->>'externalId' = 'o-evt'", id)).isEqualTo(1);
    client.postback(surface, sale("o-evt"));
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE data->>'conversionId' = ?", id))
        .as("a duplicate writes no second event").isEqualTo(1);
  }

  @Test
  void duplicatePostbackReturnsOriginalOutcome() {
    Reply first = client.postback(surface, sale("o-dup"));
    // The outcome is remembered after the answer: wait for it, so that the repeat is answered from Redis.
    awaitRemembered("o-dup", first);
    Reply second = client.postback(surface, sale("o-dup"));

    assertThat(second.status()).isEqualTo(200);
    assertThat(second.json().getBoolean("duplicate")).isTrue();
    assertThat(second.json().copy().put("duplicate", false)).as("the first answer, word for word")
        .isEqualTo(first.json());
    assertThat(rows("o-dup")).isEqualTo(1);
    assertThat(lastLogged(surface, 2)).as("the postback log shows the repeat with the original outcome")
        .containsEntry("externalId", "o-dup").containsEntry("httpStatus", 200)
        .containsEntry("outcome", first.json().getString("status")).containsEntry("duplicate", true)
        .containsEntry("conversionId", first.json().getString("conversionId"))
        .containsEntry("affiliateId", first.json().getString("affiliateId"))
        .containsEntry("commissionMinor", first.json().getInteger("commissionMinor"))
        .containsEntry("approval", first.json().getString("approval"));
  }

  @Test
  void duplicateIsRecognisedByPostgresWhenRedisHoldsSomethingElse() {
    Reply first = client.postback(surface, sale("o-junk"));
    awaitRemembered("o-junk", first);
    // Not an outcome the gateway wrote (an operator's edit, another program), even though it is shaped like
    // one: Postgres has the last word.
    TestBackends.redis("SET", "dd:" + surface.id() + ":o-junk",
        "{\"status\":\"no such status\",\"duplicate\":false,\"conversionId\":\"cv_someone_else\"}");

    Reply second = client.postback(surface, sale("o-junk"));

    assertThat(second.status()).isEqualTo(200);
    assertThat(second.json().getBoolean("duplicate")).isTrue();
    assertThat(second.json().getString("conversionId")).isEqualTo(first.json().getString("conversionId"));
    assertThat(rows("o-junk")).isEqualTo(1);
    awaitRemembered("o-junk", first);
  }

  /** Waits until Redis remembers the outcome of the answer {@code first} for the externalId. */
  private void awaitRemembered(String externalId, Reply first) {
    String key = "dd:" + surface.id() + ":" + externalId;
    Await.until("the outcome of " + externalId + " remembered", Duration.ofSeconds(5),
        () -> String.valueOf(TestBackends.redis("GET", key)).contains(first.json().getString("conversionId")));
  }

  @Test
  void duplicateIsRecognisedByPostgresWhenRedisForgot() {
    Reply first = client.postback(surface, sale("o-forgot"));
    TestBackends.redis("FLUSHALL");

    Reply second = client.postback(surface, sale("o-forgot"));

    assertThat(second.json().getBoolean("duplicate")).isTrue();
    assertThat(second.json().getString("conversionId")).isEqualTo(first.json().getString("conversionId"));
    assertThat(rows("o-forgot")).isEqualTo(1);
  }

  @Test
  void fiftyConcurrentFiresOfOneExternalIdMakeOneConversion() {
    List<CompletableFuture<Reply>> fires = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      fires.add(client.postbackAsync(surface, sale("o-race")));
    }
    List<Reply> replies = fires.stream().map(CompletableFuture::join).toList();

    assertThat(replies).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
    assertThat(replies.stream().filter(r -> !r.json().getBoolean("duplicate")).count()).isEqualTo(1);
    assertThat(replies.stream().map(r -> r.json().getString("conversionId")).distinct()).hasSize(1);
    assertThat(rows("o-race")).isEqualTo(1);
  }

  @Test
  void distinctExternalIdsFiredTogetherAreAllKept() {
    List<CompletableFuture<Reply>> fires = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      fires.add(client.postbackAsync(surface, sale("o-many-" + i)));
    }
    assertThat(fires.stream().map(CompletableFuture::join))
        .allSatisfy(r -> assertThat(r.json().getBoolean("duplicate")).isFalse());
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id()))
        .isEqualTo(300);
  }

  @Test
  void tamperedBodyIsRejected() {
    String ts = now();
    String signature = GatewayClient.sign(surface.secret(), ts, sale("o-t"));
    Reply r = client.raw("/v1/conversions", surface.id(), ts, signature, "application/json",
        sale("o-t").replace("4999", "499900"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("bad_signature");
    assertThat(rows("o-t")).isZero();
  }

  @Test
  void wrongSecretIsRejected() {
    String ts = now();
    Reply r = client.raw("/v1/conversions", surface.id(), ts, GatewayClient.sign("pbs_not-the-secret", ts, sale("o-w")),
        "application/json", sale("o-w"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("bad_signature");
  }

  @Test
  void missingSignatureHasItsOwnCode() {
    Reply r = client.raw("/v1/conversions", surface.id(), now(), null, "application/json", sale("o-m"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("missing_signature");
  }

  @Test
  void missingTimestampHasItsOwnCode() {
    Reply r = client.raw("/v1/conversions", surface.id(), null, "ab".repeat(32), "application/json", sale("o-m"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("missing_timestamp");
  }

  @Test
  void staleTimestampIsRejectedEvenWithValidSignature() {
    String old = String.valueOf(System.currentTimeMillis() - 6 * 60_000);
    Reply r = client.raw("/v1/conversions", surface.id(), old, GatewayClient.sign(surface.secret(), old, sale("o-s")),
        "application/json", sale("o-s"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("stale_timestamp");
    assertThat(rows("o-s")).isZero();
  }

  @Test
  void futureTimestampIsRejectedEvenWithValidSignature() {
    String future = String.valueOf(System.currentTimeMillis() + 6 * 60_000);
    Reply r = client.raw("/v1/conversions", surface.id(), future,
        GatewayClient.sign(surface.secret(), future, sale("o-f")), "application/json", sale("o-f"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("stale_timestamp");
  }

  @Test
  void perSurfaceToleranceApplies() {
    client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("timestampToleranceMs", 10_000));
    String ts = String.valueOf(System.currentTimeMillis() - 60_000);
    Reply r = client.raw("/v1/conversions", surface.id(), ts, GatewayClient.sign(surface.secret(), ts, sale("o-tol")),
        "application/json", sale("o-tol"));
    assertThat(r.error()).isEqualTo("stale_timestamp");
  }

  @Test
  void unknownSurfaceHasItsOwnCode() {
    String ts = now();
    Reply r = client.raw("/v1/conversions", "no-such-surface", ts, GatewayClient.sign(surface.secret(), ts, sale("o-u")),
        "application/json", sale("o-u"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.error()).isEqualTo("unknown_surface");
  }

  @Test
  void previousSecretVerifiesDuringGraceAndNotAfter() throws Exception {
    Reply rotated = client.admin("POST", "/admin/surfaces/" + surface.id() + "/secrets",
        new JsonObject().put("graceSeconds", 2));
    assertThat(rotated.status()).isEqualTo(201);
    TestSurface current = new TestSurface(surface.id(), rotated.json().getString("secret"));
    assertThat(current.secret()).isNotEqualTo(surface.secret());

    assertThat(client.postback(surface, sale("o-old-in-grace")).status()).isEqualTo(200);
    assertThat(client.postback(current, sale("o-new")).status()).isEqualTo(200);

    Thread.sleep(2_100);
    Reply afterGrace = client.postback(surface, sale("o-old-after-grace"));
    assertThat(afterGrace.status()).isEqualTo(401);
    assertThat(afterGrace.error()).isEqualTo("bad_signature");
    assertThat(client.postback(current, sale("o-new-2")).status()).isEqualTo(200);
  }

  @ParameterizedTest(name = "{0} → 400 naming {1}")
  @CsvSource(delimiter = '|', value = {
      "{\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\"}                          | externalId",
      "{\"externalId\":\"\",\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\"}      | externalId",
      "{\"externalId\":5,\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\"}         | externalId",
      "{\"externalId\":\"x\",\"grossMinor\":1,\"currency\":\"USD\"}                            | eventType",
      "{\"externalId\":\"x\",\"eventType\":\"Sale!\",\"grossMinor\":1,\"currency\":\"USD\"}    | eventType",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"currency\":\"USD\"}                      | grossMinor",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":-1,\"currency\":\"USD\"}    | grossMinor",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":49.99,\"currency\":\"USD\"} | grossMinor",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":\"4999\",\"currency\":\"USD\"} | grossMinor",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":99999999999999999999999,\"currency\":\"USD\"} | grossMinor",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":100}                        | currency",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":100,\"currency\":\"usd\"}   | currency",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":100,\"currency\":\"XYZ\"}   | currency",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\",\"occurredAt\":\"yesterday\"} | occurredAt",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\",\"occurredAt\":\"2999-01-01T00:00:00Z\"} | occurredAt",
      "{\"externalId\":\"x\",\"eventType\":\"refund\"}                                         | refundOf",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\",\"refundOf\":\"y\"} | refundOf",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\",\"metadata\":[1]} | metadata",
      "{\"externalId\":\"x\",\"eventType\":\"sale\",\"grossMinor\":1,\"currency\":\"USD\",\"clickId\":{}}  | clickId",
  })
  void invalidFieldIsNamed(String body, String field) {
    Reply r = client.postback(surface, body);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.error()).isEqualTo("invalid_field");
    assertThat(r.json().getString("field")).isEqualTo(field);
    assertThat(r.json().getString("message")).contains(field);
  }

  @Test
  void oversizeMetadataIsRejected() {
    String body = "{\"externalId\":\"x\",\"eventType\":\"signup\",\"metadata\":{\"blob\":\"" + "a".repeat(9_000) + "\"}}";
    Reply r = client.postback(surface, body);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("field")).isEqualTo("metadata");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"{\"externalId\":", "[1,2]", "not json", "{\"a\":1}{\"b\":2}",
      "{\"externalId\":\"a\",\"externalId\":\"b\",\"eventType\":\"signup\"}"})
  void malformedJsonIsA400(String body) {
    Reply r = client.postback(surface, body);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.error()).isEqualTo("malformed_json");
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("at io.");
  }

  @Test
  void bodyOverTheLimitIsA413ShownLikeEveryRejection() {
    GatewayClient.TestSurface own = client.createSurface();
    double before = rejected("body_too_large");
    String body = "{\"externalId\":\"big\",\"eventType\":\"signup\",\"pad\":\"" + "x".repeat(70 * 1024) + "\"}";
    Reply r = client.postback(own, body);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.error()).isEqualTo("body_too_large");
    assertThat(rows("big")).isZero();
    assertThat(rejected("body_too_large")).isEqualTo(before + 1);
    assertThat(lastLogged(own, 1)).containsEntry("httpStatus", 413).containsEntry("error", "body_too_large");
  }

  @Test
  void wrongContentTypeIsA415ShownLikeEveryRejection() {
    GatewayClient.TestSurface own = client.createSurface();
    double before = rejected("unsupported_media_type");
    String ts = now();
    Reply r = client.raw("/v1/conversions", own.id(), ts, GatewayClient.sign(own.secret(), ts, sale("o-ct")),
        "text/plain", sale("o-ct"));
    assertThat(r.status()).isEqualTo(415);
    assertThat(r.error()).isEqualTo("unsupported_media_type");
    assertThat(rejected("unsupported_media_type")).isEqualTo(before + 1);
    assertThat(lastLogged(own, 1)).containsEntry("httpStatus", 415).containsEntry("error", "unsupported_media_type");
  }

  /** gateway_postbacks_total{outcome="rejected",reason=...} from a scrape (0 before the first). */
  private double rejected(String reason) {
    Matcher m = Pattern.compile("^" + Pattern.quote(
            "gateway_postbacks_total{outcome=\"rejected\",reason=\"" + reason + "\"}") + " ([0-9.eE+-]+)$",
        Pattern.MULTILINE).matcher(client.get("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  /**
   * The newest entry of the surface's postback log once it holds {@code entries} (written after the answers, at
   * most every PostbackLog.WRITE_EVERY: waited for).
   */
  private Map<String, Object> lastLogged(GatewayClient.TestSurface own, int entries) {
    Await.until(entries + " postback log entries", Duration.ofSeconds(5), () -> client.admin("GET",
        "/admin/postback-log?surfaceId=" + own.id(), null).json().getJsonArray("items").size() >= entries);
    return client.admin("GET", "/admin/postback-log?surfaceId=" + own.id(), null).json().getJsonArray("items")
        .getJsonObject(0).getMap();
  }

  @Test
  void noBodyAtAllIsAClearError() {
    String ts = now();
    Reply r = client.raw("/v1/conversions", surface.id(), ts, GatewayClient.sign(surface.secret(), ts, ""),
        "application/json", "");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.error()).isEqualTo("malformed_json");
  }

  @Test
  void signupWithoutAmountIsAccepted() {
    Reply r = client.postback(surface, "{\"externalId\":\"su-1\",\"eventType\":\"signup\"}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(rows("su-1")).isEqualTo(1);
  }

  @Test
  void zeroAmountNeedsNoCurrency() {
    Reply r = client.postback(surface, "{\"externalId\":\"z-1\",\"eventType\":\"sale\",\"grossMinor\":0}");
    assertThat(r.status()).isEqualTo(200);
  }

  private static String now() {
    return String.valueOf(System.currentTimeMillis());
  }
}
