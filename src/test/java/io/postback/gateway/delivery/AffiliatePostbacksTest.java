package io.postback.gateway.delivery;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Affiliate postbacks end to end (issue 11): templates saved through the admin API, conversions through
 * the real ingest paths, and a real local tracker recording each request line. Templates are delivery
 * destinations, so retries, dead letters and replay are the webhook machinery's, seen here from a tracker.
 */
class AffiliatePostbacksTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway(DeliveryFixtures.FAST);

  private static Tracker tracker;
  private GatewayClient client;
  private TestSurface surface;
  private String affiliate;
  private String token;
  private String lastLinkCode;

  @BeforeAll
  static void startTracker() {
    tracker = new Tracker();
  }

  @AfterAll
  static void stopTracker() {
    tracker.close();
  }

  @BeforeEach
  void program() {
    client = gateway.client();
    surface = client.createSurface();
    affiliate = client.createAffiliate("active");
    client.createRule(surface, "sale", 499L, null, null);
    token = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token", null).json()
        .getString("postbackToken");
  }

  @AfterEach
  void forget() {
    DeliveryFixtures.forgetEndpoints();
  }

  private String path() {
    return "/pb/" + System.nanoTime();
  }

  private Reply create(String affiliateId, JsonObject body) {
    return client.admin("POST", "/admin/affiliates/" + affiliateId + "/postbacks", body);
  }

  private String template(String url, String... eventTypes) {
    JsonObject body = new JsonObject().put("url", url);
    if (eventTypes.length > 0) {
      body.put("eventTypes", new JsonArray(List.of((Object[]) eventTypes)));
    }
    Reply r = create(affiliate, body);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().getString("id");
  }

  /** A click through a new link of the affiliate, with these query parameters; returns the click id. */
  private String click(String query) {
    String code = client.createLink(surface, affiliate, "https://shop.example/p", null);
    lastLinkCode = code;
    Reply r = client.get("/c/" + code + "?" + query);
    assertThat(r.status()).isEqualTo(302);
    String id = r.location().substring(r.location().indexOf("clickId=") + 8);
    return id.contains("&") ? id.substring(0, id.indexOf('&')) : id;
  }

  private Reply sale(String externalId, String clickId) {
    return client.postback(surface, "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":4999,"
        + "\"currency\":\"USD\"" + (clickId == null ? "" : ",\"clickId\":\"" + clickId + "\"") + "}");
  }

  private Reply getPostback(String txid, String clickId, String status) {
    return client.get("/v1/postback?surface=" + surface.id() + "&token=" + token + "&clickid=" + clickId + "&txid="
        + txid + "&amount=49.99&currency=USD&event=sale&status=" + status);
  }

  private static void quiet() {
    try {
      Thread.sleep(800); // several poll and retry rounds of the fast settings
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- admin API ----

  @Test
  void templatesAreManagedUnderTheirAffiliate() {
    Reply created = create(affiliate, new JsonObject()
        .put("url", "https://127.0.0.1/postback?cid={clickid}&payout={payout}&status={status}&s={sub:campaign}")
        .put("surfaceId", surface.id()).put("description", "Voluum"));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    JsonObject t = created.json();
    String id = t.getString("id");
    assertThat(t.getString("secret")).startsWith("pbsec_");
    assertThat(t.getString("method")).isEqualTo("GET");
    assertThat(t.getJsonArray("eventTypes")).containsExactly("conversion.created");
    assertThat(t.getJsonArray("macros")).containsExactly("click_id", "payout", "status", "sub:campaign");
    assertThat(t.getString("affiliateId")).isEqualTo(affiliate);

    String base = "/admin/affiliates/" + affiliate + "/postbacks";
    assertThat(client.admin("GET", base + "/" + id, null).json().getString("url")).isEqualTo(t.getString("url"));
    assertThat(client.admin("GET", base + "/" + id, null).json().containsKey("secret")).isFalse();
    assertThat(client.admin("GET", base, null).json().getJsonArray("items")).hasSize(1);

    Reply patched = client.admin("PATCH", base + "/" + id, new JsonObject()
        .put("method", "POST").put("body", "{\"cid\":\"{click_id}\",\"amount\":{amount}}")
        .put("eventTypes", new JsonArray().add("conversion.approved").add("conversion.refunded"))
        .put("surfaceId", (String) null).put("signQuery", true));
    assertThat(patched.status()).as(patched.body()).isEqualTo(200);
    assertThat(patched.json().getString("method")).isEqualTo("POST");
    assertThat(patched.json().getString("surfaceId")).isNull();
    assertThat(patched.json().getBoolean("signQuery")).isTrue();
    assertThat(patched.json().getJsonArray("eventTypes")).containsExactly("conversion.approved", "conversion.refunded");

    // Not a webhook endpoint, and not another affiliate's.
    assertThat(client.admin("GET", "/admin/webhook-endpoints/" + id, null).status()).isEqualTo(404);
    assertThat(client.admin("GET", "/admin/webhook-endpoints", null).body()).doesNotContain(id);
    String other = client.createAffiliate("active");
    assertThat(client.admin("GET", "/admin/affiliates/" + other + "/postbacks/" + id, null).status()).isEqualTo(404);
    assertThat(client.admin("DELETE", "/admin/affiliates/" + other + "/postbacks/" + id, null).status()).isEqualTo(404);

    assertThat(client.admin("DELETE", base + "/" + id, null).status()).isEqualTo(200);
    assertThat(client.admin("GET", base + "/" + id, null).status()).isEqualTo(404);
    assertThat(client.admin("GET", "/admin/affiliates/nobody/postbacks", null).status()).isEqualTo(404);
  }

  @Test
  void anUnknownMacroIsRefusedAtSaveNamingIt() {
    Reply r = create(affiliate, new JsonObject().put("url", "https://127.0.0.1/pb?cid={click_id}&x={revenue}"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("field")).isEqualTo("url");
    assertThat(r.json().getString("message")).contains("unknown macro {revenue}");

    Reply body = create(affiliate, new JsonObject().put("url", "https://127.0.0.1/pb").put("method", "POST")
        .put("body", "{\"c\":\"{clik_id}\"}"));
    assertThat(body.status()).isEqualTo(400);
    assertThat(body.json().getString("field")).isEqualTo("body");
    assertThat(body.json().getString("message")).contains("unknown macro {clik_id}");

    String id = template("https://127.0.0.1/pb?cid={click_id}");
    Reply patch = client.admin("PATCH", "/admin/affiliates/" + affiliate + "/postbacks/" + id,
        new JsonObject().put("url", "https://127.0.0.1/pb?cid={click}"));
    assertThat(patch.status()).isEqualTo(400);
    assertThat(patch.json().getString("message")).contains("unknown macro {click}");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"url\":\"https://127.0.0.1/p?c={click_id}\\u0000\"}",
      "{\"url\":\"https://127.0.0.1/p?c=\\ud800{click_id}\"}",
      "{\"url\":\"https://{sub1}.t.example/p\"}",
      "{\"url\":\"https://127.0.0.1/p#{click_id}\"}",
      "{\"url\":\"ftp://t.example/p\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"method\":\"PUT\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"body\":\"a={click_id}\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"method\":\"POST\",\"body\":\"{\\\"a\\\": {click_id}\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"method\":\"POST\",\"body\":\"a=\\u0000\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"eventTypes\":[\"payout.completed\"]}",
      "{\"url\":\"https://127.0.0.1/p\",\"eventTypes\":[]}",
      "{\"url\":\"https://127.0.0.1/p\",\"eventTypes\":[\"conversion.created\",\"conversion.created\"]}",
      "{\"url\":\"https://127.0.0.1/p\",\"timeoutMs\":99999999999999999999999}",
      "{\"url\":\"https://127.0.0.1/p\",\"maxInFlight\":-1}",
      "{\"url\":\"https://127.0.0.1/p\",\"surfaceId\":\"no-such-surface\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"surfaceId\":\"a;b&c=%00\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"description\":\"x\\ud800\"}",
      "{\"url\":\"\"}",
      "{\"url\":\"https://127.0.0.1/p\",\"signQuery\":\"yes\"}",
      "{\"method\":\"GET\"}"})
  void hostileTemplatesAreRefusedWithA400(String json) {
    // Sent as written: JSON escapes such as \u0000 and a lone \ud800 reach the gateway as they are.
    Reply r = client.post("/admin/affiliates/" + affiliate + "/postbacks", "application/json", json,
        "authorization", "Bearer " + TestBackends.ADMIN_TOKEN);
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    assertThat(r.json().getString("error")).isNotBlank();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM webhook_endpoints WHERE affiliate_id = ?", affiliate))
        .isZero();
  }

  @Test
  void invalidUtf8InATemplateIsRefusedWithA400() {
    byte[] head = ("POST /admin/affiliates/" + affiliate + "/postbacks HTTP/1.1\r\nhost: localhost\r\n"
        + "authorization: Bearer " + TestBackends.ADMIN_TOKEN + "\r\ncontent-type: application/json\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    byte[] prefix = "{\"url\":\"https://127.0.0.1/p?c={click_id}&x=".getBytes(StandardCharsets.US_ASCII);
    byte[] suffix = "\"}".getBytes(StandardCharsets.US_ASCII);
    byte[] body = new byte[prefix.length + 2 + suffix.length];
    System.arraycopy(prefix, 0, body, 0, prefix.length);
    body[prefix.length] = (byte) 0xC3;
    body[prefix.length + 1] = (byte) 0x28;
    System.arraycopy(suffix, 0, body, prefix.length + 2, suffix.length);
    Reply r = client.rawRequest(head, body);
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM webhook_endpoints WHERE affiliate_id = ?", affiliate))
        .isZero();
  }

  // ---- delivery ----

  @Test
  void anAttributedSaleFiresTheTemplateOnceWithEveryMacroRenderedAndEncoded() {
    String path = path();
    StringBuilder url = new StringBuilder(path + "/{click_id}?");
    for (String m : PostbackTemplate.MACROS) {
      url.append(m).append("={").append(m).append("}&");
    }
    url.append("clickid={clickid}&transaction_id={transaction_id}&amount={amount}&sum={sum}&camp={sub:sub3}&fixed=1");
    String id = template(tracker.url(url.toString()));
    String clickId = click("sub1=a%26b%3Dc&sub2=%23frag%3Fx&sub3=100%25%20sure&sub4=emoji%20%F0%9F%98%80%20%C3%A9"
        + "&sub5=%7Bpayout%7D");
    Reply sale = sale("pb-sale-1", clickId);
    assertThat(sale.json().getString("status")).isEqualTo("attributed");

    Await.until("the tracker got the postback", WAIT, () -> tracker.requests(path + "/" + clickId).size() >= 1);
    quiet();
    List<Tracker.Request> got = tracker.requests(path + "/" + clickId);
    assertThat(got).as("fired once").hasSize(1);
    assertThat(got.get(0).method()).isEqualTo("GET");
    Map<String, String> q = got.get(0).query();
    String conversionId = sale.json().getString("conversionId");
    long eventAt = TestBackends.queryLong("SELECT floor(extract(epoch FROM created_at) * 1000)::bigint FROM events "
        + "WHERE type = 'conversion.created' AND data->>'conversionId' = ?", conversionId);
    assertThat(q).containsEntry("click_id", clickId).containsEntry("clickid", clickId)
        .containsEntry("txid", "pb-sale-1").containsEntry("transaction_id", "pb-sale-1")
        .containsEntry("conversion_id", conversionId)
        .containsEntry("event", "conversion.created").containsEntry("event_type", "sale")
        .containsEntry("status", "approved")
        .containsEntry("payout", "4.99").containsEntry("amount", "4.99").containsEntry("sum", "4.99")
        .containsEntry("payout_minor", "499").containsEntry("currency", "USD")
        .containsEntry("gross", "49.99").containsEntry("gross_minor", "4999").containsEntry("gross_currency", "USD")
        .containsEntry("affiliate_id", affiliate).containsEntry("surface_id", surface.id())
        .containsEntry("sub1", "a&b=c").containsEntry("sub2", "#frag?x").containsEntry("sub3", "100% sure")
        .containsEntry("camp", "100% sure").containsEntry("sub4", "emoji \uD83D\uDE00 \u00e9")
        .containsEntry("sub5", "{payout}")
        .containsEntry("timestamp", String.valueOf(eventAt / 1000)).containsEntry("timestamp_ms", String.valueOf(eventAt))
        .containsEntry("fixed", "1");
    assertThat(q.get("ip")).isNotBlank();
    assertThat(q.get("link_code")).isEqualTo(lastLinkCode);
    assertThat(q).hasSize(PostbackTemplate.MACROS.size() + 6);
    assertThat(got.get(0).uri()).contains("sub5=%7Bpayout%7D").contains("sub1=a%26b%3Dc");
    // The template's health and attempt log show the tracker's answer.
    JsonObject health = client.admin("GET", "/admin/affiliates/" + affiliate + "/postbacks/" + id + "/health", null).json();
    assertThat(health.getLong("successes")).isEqualTo(1);
    assertThat(health.getDouble("successRate")).isEqualTo(1.0);
    JsonObject listed = client.admin("GET", "/admin/affiliates/" + affiliate + "/postbacks", null).json()
        .getJsonArray("items").getJsonObject(0);
    assertThat(listed.getJsonObject("health").getLong("attempts")).isEqualTo(1);
    assertThat(listed.getJsonObject("health").getDouble("successRate")).isEqualTo(1.0);
    JsonArray log = client.admin("GET", "/admin/affiliates/" + affiliate + "/postbacks/" + id + "/attempts", null).json()
        .getJsonArray("items");
    assertThat(log.getJsonObject(0).getString("responseBody")).isEqualTo("{\"result\":\"ok\"}");
    assertThat(client.get("/metrics").body())
        .containsPattern("gateway_delivery_attempts_total\\{kind=\"affiliate_postback\",outcome=\"success\"} [1-9]");
  }

  @Test
  void onlyAttributedConversionsOfTheAffiliateAndItsSurfaceFire() {
    String path = path();
    template(tracker.url(path + "?cid={click_id}&tx={txid}"));
    String otherPath = path();
    TestSurface otherSurface = client.createSurface();
    Reply scoped = create(affiliate, new JsonObject().put("url", tracker.url(otherPath + "?tx={txid}"))
        .put("surfaceId", otherSurface.id()));
    assertThat(scoped.status()).isEqualTo(201);
    String otherAffiliate = client.createAffiliate("active");
    String theirs = path();
    assertThat(create(otherAffiliate, new JsonObject().put("url", tracker.url(theirs + "?tx={txid}"))).status())
        .isEqualTo(201);

    assertThat(sale("pb-unattributed", null).json().getString("status")).isEqualTo("unattributed");
    assertThat(sale("pb-unknown-click", "ck_nope").json().getString("status")).isEqualTo("unattributed");
    String clickId = click("sub1=x");
    sale("pb-mine", clickId);

    // Credited to a pending affiliate, who earns nothing: its template does not fire either.
    String pending = client.createAffiliate("pending");
    String pendingPath = path();
    assertThat(create(pending, new JsonObject().put("url", tracker.url(pendingPath + "?tx={txid}"))).status())
        .isEqualTo(201);
    String pendingCode = client.createLink(surface, pending, "https://shop.example/p", null);
    assertThat(sale("pb-pending", client.click(pendingCode)).json().getString("status")).isEqualTo("affiliate_pending");

    Await.until("the attributed one fired", WAIT, () -> tracker.requests(path).size() >= 1);
    quiet();
    assertThat(tracker.requests(pendingPath)).as("a pending affiliate's conversion").isEmpty();
    assertThat(tracker.requests(path)).extracting(r -> r.query().get("tx")).containsExactly("pb-mine");
    assertThat(tracker.requests(otherPath)).as("scoped to another surface").isEmpty();
    assertThat(tracker.requests(theirs)).as("another affiliate's template").isEmpty();
  }

  @Test
  void aRefundFiresItsTemplateWithTheReversalNegative() {
    String createdPath = path();
    String refundPath = path();
    template(tracker.url(createdPath + "?tx={txid}&p={payout}"), "conversion.created");
    template(tracker.url(refundPath + "?tx={txid}&cid={click_id}&p={payout}&pm={payout_minor}&g={gross}&s={status}"
        + "&e={event}&sub={sub1}"), "conversion.refunded");
    String clickId = click("sub1=keep%20me");
    sale("pb-refunded", clickId);
    Reply refund = client.postback(surface, "{\"externalId\":\"pb-refunded-r\",\"eventType\":\"refund\","
        + "\"refundOf\":\"pb-refunded\",\"grossMinor\":2000,\"currency\":\"USD\"}");
    assertThat(refund.status()).isEqualTo(200);

    Await.until("the refund postback", WAIT, () -> tracker.requests(refundPath).size() >= 1);
    quiet();
    assertThat(tracker.requests(createdPath)).hasSize(1);
    List<Tracker.Request> got = tracker.requests(refundPath);
    assertThat(got).hasSize(1);
    long reversed = TestBackends.queryLong("SELECT (data->>'commissionReversedMinor')::bigint FROM events "
        + "WHERE type = 'conversion.refunded' AND surface_id = ?", surface.id());
    assertThat(reversed).isPositive();
    assertThat(got.get(0).query()).containsEntry("tx", "pb-refunded").containsEntry("cid", clickId)
        .containsEntry("pm", String.valueOf(-reversed))
        .containsEntry("p", new java.math.BigDecimal(-reversed).movePointLeft(2).toPlainString())
        .containsEntry("g", "-20.00").containsEntry("s", "refunded").containsEntry("e", "conversion.refunded")
        .containsEntry("sub", "keep me");
  }

  @Test
  void approvalTransitionsFireTheirTemplates() {
    String created = path();
    String approved = path();
    String rejected = path();
    template(tracker.url(created + "?tx={txid}&s={status}"));
    template(tracker.url(approved + "?tx={txid}&s={status}&p={payout}&sub={sub1}&cid={click_id}&ip={ip}"),
        "conversion.approved");
    template(tracker.url(rejected + "?tx={txid}&s={status}&p={payout}"), "conversion.rejected");
    String click1 = click("sub1=a");
    String click2 = click("sub1=b");
    assertThat(getPostback("pb-appr", click1, "pending").status()).isEqualTo(200);
    assertThat(getPostback("pb-rej", click2, "pending").status()).isEqualTo(200);
    Await.until("two created", WAIT, () -> tracker.requests(created).size() >= 2);
    assertThat(tracker.requests(created)).allSatisfy(r -> assertThat(r.query().get("s")).isEqualTo("pending"));

    // The click ages out before the approval: what the postback renders of it was copied onto the conversion.
    TestBackends.execute("DELETE FROM clicks WHERE id = '" + click1 + "'");
    TestBackends.redis("DEL", "ck:" + click1);
    assertThat(getPostback("pb-appr", click1, "approved").status()).isEqualTo(200);
    assertThat(getPostback("pb-rej", click2, "rejected").status()).isEqualTo(200);
    Await.until("approval and rejection", WAIT,
        () -> tracker.requests(approved).size() >= 1 && tracker.requests(rejected).size() >= 1);
    quiet();
    assertThat(tracker.requests(approved)).singleElement().satisfies(r -> assertThat(r.query())
        .containsEntry("tx", "pb-appr").containsEntry("s", "approved").containsEntry("p", "4.99")
        .containsEntry("sub", "a").containsEntry("cid", click1).hasEntrySatisfying("ip", ip -> assertThat(ip).isNotBlank()));
    assertThat(tracker.requests(rejected)).singleElement().satisfies(r -> assertThat(r.query())
        .containsEntry("tx", "pb-rej").containsEntry("s", "rejected").containsEntry("p", "-4.99"));
    assertThat(tracker.requests(created)).hasSize(2);
  }

  @Test
  void anApprovalAfterTheClicksDayPartitionWasDroppedStillRendersTheClick() {
    String approved = path();
    template(tracker.url(approved + "?tx={txid}&s={status}&sub={sub1}&cid={click_id}&ip={ip}"), "conversion.approved");
    String code = client.createLink(surface, affiliate, "https://shop.example/p", null);
    // A click three days old, in its own day partition (as retention finds clicks), credited while it exists.
    java.time.LocalDate day = java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(3);
    long at = day.atStartOfDay().toInstant(java.time.ZoneOffset.UTC).toEpochMilli() + 3_600_000;
    String clickId = io.postback.gateway.ids.Ids.timeOrdered("ck", at);
    String partition = "clicks_p" + day.toString().replace("-", "");
    TestBackends.execute("SELECT create_day_partition('clicks', 'ck', DATE '" + day + "')");
    TestBackends.execute("INSERT INTO clicks (id, link_code, surface_id, affiliate_id, clicked_at, ip, sub1) VALUES ('"
        + clickId + "', '" + code + "', '" + surface.id() + "', '" + affiliate + "', to_timestamp(" + at / 1000
        + "), '203.0.113.9', 'kept')");
    assertThat(getPostback("pb-dropped", clickId, "pending").json().getString("status")).isEqualTo("attributed");

    // Retention drops the click's day (what PartitionMaintenance does to clicks: detach, drop).
    TestBackends.execute("ALTER TABLE clicks DETACH PARTITION " + partition);
    TestBackends.execute("DROP TABLE " + partition);
    assertThat(getPostback("pb-dropped", clickId, "approved").status()).isEqualTo(200);

    Await.until("the approval postback", WAIT, () -> tracker.requests(approved).size() >= 1);
    assertThat(tracker.requests(approved)).singleElement().satisfies(r -> assertThat(r.query())
        .containsEntry("tx", "pb-dropped").containsEntry("s", "approved").containsEntry("sub", "kept")
        .containsEntry("cid", clickId).containsEntry("ip", "203.0.113.9"));
  }

  @Test
  void aTrackerDownThenUpGetsThePostbackOnceWithTheAttemptsLogged() {
    String path = path();
    String id = template(tracker.url(path + "?tx={txid}"));
    tracker.down();
    try {
      sale("pb-down", click("sub1=x"));
      Await.until("two failed attempts", WAIT, () -> DeliveryFixtures.attempts(id) >= 2);
    } finally {
      tracker.up();
    }
    Await.until("delivered", WAIT, () -> DeliveryFixtures.deliveries(id, "succeeded") == 1);
    quiet();
    assertThat(tracker.requests(path)).hasSize(1);
    JsonArray log = client.admin("GET", "/admin/affiliates/" + affiliate + "/postbacks/" + id + "/attempts", null)
        .json().getJsonArray("items");
    assertThat(log.size()).isGreaterThanOrEqualTo(3);
    assertThat(log.getJsonObject(0).getString("outcome")).isEqualTo("success");
    assertThat(log.getJsonObject(log.size() - 1).getString("outcome")).isEqualTo("failure");
    assertThat(log.getJsonObject(log.size() - 1).getString("error")).isNotBlank();
    JsonObject health = client.admin("GET", "/admin/affiliates/" + affiliate + "/postbacks/" + id + "/health", null).json();
    assertThat(health.getDouble("successRate")).isLessThan(1.0);
    assertThat(health.getJsonObject("lastError")).isNotNull();
    JsonObject listed = client.admin("GET", "/admin/affiliates/" + affiliate + "/postbacks", null).json()
        .getJsonArray("items").getJsonObject(0).getJsonObject("health");
    assertThat(listed.getDouble("successRate")).isEqualTo(health.getDouble("successRate"));
    assertThat(listed.getJsonObject("lastError").getString("error")).isEqualTo(health.getJsonObject("lastError").getString("error"));
  }

  @Test
  void aDeadPostbackIsReplayedOnceTheTrackerAnswers() {
    String path = path();
    String id = template(tracker.url(path + "?tx={txid}"));
    tracker.answer(n -> 500);
    try {
      sale("pb-dead", click("sub1=x"));
      Await.until("dead after the schedule", WAIT, () -> DeliveryFixtures.deliveries(id, "dead") == 1);
      assertThat(tracker.requests(path)).hasSize(4);
    } finally {
      tracker.answer(n -> 200);
    }
    JsonObject dead = client.admin("GET", "/admin/deliveries?status=dead&endpointId=" + id, null).json()
        .getJsonArray("items").getJsonObject(0);
    Reply replay = client.admin("POST", "/admin/affiliates/" + affiliate + "/postbacks/" + id + "/replay?since="
        + Instant.now().minusSeconds(3600), null);
    assertThat(replay.status()).as(replay.body()).isEqualTo(202);
    assertThat(replay.json().getInteger("replayed")).isEqualTo(1);
    Await.until("delivered after the replay", WAIT, () -> DeliveryFixtures.deliveries(id, "succeeded") == 1);
    assertThat(tracker.requests(path)).hasSize(5);
    assertThat(dead.getString("status")).isEqualTo("dead");
    // And the single-delivery replay of the dead-letter API works for it too.
    assertThat(client.admin("POST", "/admin/deliveries/" + dead.getString("id") + "/replay", null).status())
        .isEqualTo(202);
    Await.until("sent again", WAIT, () -> tracker.requests(path).size() == 6);
  }

  @Test
  void aPostTemplateSendsItsBodyAndASignedOneItsSignature() throws Exception {
    String jsonPath = path();
    Reply json = create(affiliate, new JsonObject().put("url", tracker.url(jsonPath + "?tx={txid}")).put("method", "POST")
        .put("body", "{\"cid\":\"{click_id}\",\"s1\":\"{sub1}\",\"payout\":{payout},\"note\":{sub2}}")
        .put("signQuery", true));
    assertThat(json.status()).as(json.body()).isEqualTo(201);
    String secret = json.json().getString("secret");
    String formPath = path();
    assertThat(create(affiliate, new JsonObject().put("url", tracker.url(formPath)).put("method", "POST")
        .put("body", "cid={click_id}&s1={sub1}&p={payout}")).status()).isEqualTo(201);
    String clickId = click("sub1=%22%7D%2C%22x%22%3A%22&sub2=a%26b");
    sale("pb-post", clickId);
    Await.until("both posted", WAIT, () -> tracker.requests(jsonPath).size() >= 1 && tracker.requests(formPath).size() >= 1);

    Tracker.Request j = tracker.requests(jsonPath).get(0);
    assertThat(j.method()).isEqualTo("POST");
    assertThat(j.contentType()).isEqualTo("application/json");
    JsonObject body = new JsonObject(j.body());
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("cid", "s1", "payout", "note");
    assertThat(body.getString("s1")).isEqualTo("\"},\"x\":\"");
    assertThat(body.getValue("payout")).isEqualTo(4.99);
    assertThat(body.getString("note")).isEqualTo("a&b");
    String query = j.uri().substring(j.uri().indexOf('?') + 1, j.uri().indexOf("&sig="));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    assertThat(j.query().get("sig")).isEqualTo(HexFormat.of().formatHex(mac.doFinal(query.getBytes(StandardCharsets.UTF_8))));

    Tracker.Request f = tracker.requests(formPath).get(0);
    assertThat(f.contentType()).isEqualTo("application/x-www-form-urlencoded");
    assertThat(f.body().split("&")).hasSize(3);
    assertThat(f.body()).startsWith("cid=" + clickId + "&s1=%22%7D%2C%22x%22%3A%22&p=4.99");
  }

  @Test
  void theTestCallFiresTheTemplateWithTestValues() {
    String path = path();
    String id = template(tracker.url(path + "?cid={click_id}&p={payout}&e={event}"));
    Reply test = client.admin("POST", "/admin/affiliates/" + affiliate + "/postbacks/" + id + "/test", null);
    assertThat(test.status()).as(test.body()).isEqualTo(202);
    Await.until("test fired", WAIT, () -> tracker.requests(path).size() == 1);
    assertThat(tracker.requests(path).get(0).query()).containsEntry("cid", "test").containsEntry("p", "0.00")
        .containsEntry("e", "endpoint.test");
    assertThat(client.admin("POST", "/admin/affiliates/" + affiliate + "/postbacks/apb_nope/test", null).status())
        .isEqualTo(404);
  }
}
