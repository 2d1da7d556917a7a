package io.postback.gateway.portal;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A portal link sees and changes only its own scope (SPEC §7): other scopes' endpoints, deliveries and
 * postback logs answer 404 as if they did not exist, the admin API refuses its token, and the portal API
 * refuses the admin token, a forged token and an expired one.
 */
class PortalScopeTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  @Test
  void aSurfaceLinkSeesAndEditsOnlyItsOwnEndpoints() {
    GatewayClient client = gateway.client();
    GatewayClient.TestSurface mine = client.createSurface();
    GatewayClient.TestSurface theirs = client.createSurface();
    String own = endpoint(client, mine.id(), null);
    String affiliate = client.createAffiliate("active");
    String narrower = endpoint(client, mine.id(), affiliate);
    String other = endpoint(client, theirs.id(), null);
    String token = mint(client, new JsonObject().put("surfaceId", mine.id())).getString("token");

    JsonArray listed = client.withToken(token, "GET", "/portal/api/webhook-endpoints", null).json().getJsonArray("items");
    assertThat(listed.stream().map(e -> ((JsonObject) e).getString("id"))).containsExactly(own);
    assertThat(client.withToken(token, "GET", "/portal/api/webhook-endpoints/" + own, null).status()).isEqualTo(200);
    for (String foreign : new String[] {other, narrower}) {
      assertThat(client.withToken(token, "GET", "/portal/api/webhook-endpoints/" + foreign, null).status()).isEqualTo(404);
      assertThat(client.withToken(token, "PATCH", "/portal/api/webhook-endpoints/" + foreign,
          new JsonObject().put("enabled", false)).status()).isEqualTo(404);
      assertThat(client.withToken(token, "POST", "/portal/api/webhook-endpoints/" + foreign + "/secrets",
          new JsonObject()).status()).isEqualTo(404);
      assertThat(client.withToken(token, "POST", "/portal/api/webhook-endpoints/" + foreign + "/replay?since=2026-01-01T00:00:00Z", null).status())
          .isEqualTo(404);
      assertThat(client.withToken(token, "GET", "/portal/api/deliveries?endpointId=" + foreign, null).status()).isEqualTo(404);
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM webhook_endpoints WHERE id = ? AND enabled", other)).isEqualTo(1);

    // A new endpoint takes the link's scope, whatever the body says; an edit cannot move it.
    Reply created = client.withToken(token, "POST", "/portal/api/webhook-endpoints",
        new JsonObject().put("url", "http://127.0.0.1:9/hook").put("surfaceId", theirs.id()));
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.json().getString("surfaceId")).isEqualTo(mine.id());
    assertThat(created.json().getString("affiliateId")).isNull();
    assertThat(created.json().getString("secret")).startsWith("whsec_");
    assertThat(client.withToken(token, "PATCH", "/portal/api/webhook-endpoints/" + created.json().getString("id"),
        new JsonObject().put("surfaceId", theirs.id())).error()).isEqualTo("scope_fixed");
    assertThat(client.withToken(token, "PATCH", "/portal/api/webhook-endpoints/" + own,
        new JsonObject().put("description", "my receiver")).json().getString("description")).isEqualTo("my receiver");
  }

  @Test
  void aLinkReplaysOnlyItsOwnDeliveriesAndReadsOnlyItsSurfaceLog() {
    GatewayClient client = gateway.client();
    GatewayClient.TestSurface mine = client.createSurface();
    GatewayClient.TestSurface theirs = client.createSurface();
    String own = endpoint(client, mine.id(), null);
    String other = endpoint(client, theirs.id(), null);
    TestBackends.execute("UPDATE webhook_endpoints SET enabled = false WHERE id IN ('" + own + "', '" + other + "')");
    String sale = "{\"externalId\":\"%s\",\"eventType\":\"sale\",\"grossMinor\":100,\"currency\":\"USD\"}";
    assertThat(client.postback(mine, sale.formatted("portal-1")).status()).isEqualTo(200);
    assertThat(client.postback(theirs, sale.formatted("portal-2")).status()).isEqualTo(200);
    Await.until("both deliveries to be recorded", Duration.ofSeconds(20),
        () -> TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE endpoint_id IN (?, ?)", own, other) == 2);
    String token = mint(client, new JsonObject().put("surfaceId", mine.id())).getString("token");
    String otherDelivery = deliveryOf(other);

    assertThat(client.withToken(token, "GET", "/portal/api/deliveries/" + otherDelivery, null).status()).isEqualTo(404);
    assertThat(client.withToken(token, "POST", "/portal/api/deliveries/" + otherDelivery + "/replay", null).status())
        .isEqualTo(404);
    assertThat(client.withToken(token, "POST", "/portal/api/deliveries/" + deliveryOf(own) + "/replay", null).status())
        .isEqualTo(202);
    assertThat(client.withToken(token, "GET", "/portal/api/postback-log?surfaceId=" + theirs.id(), null).status())
        .isEqualTo(404);
    JsonArray log = client.withToken(token, "GET", "/portal/api/postback-log?surfaceId=" + mine.id(), null).json()
        .getJsonArray("items");
    assertThat(log.stream().map(e -> ((JsonObject) e).getString("externalId"))).containsExactly("portal-1");
  }

  @Test
  void tokensAreNotInterchangeableAndExpireAndCannotBeForged() throws Exception {
    GatewayClient client = gateway.client();
    GatewayClient.TestSurface mine = client.createSurface();
    String token = mint(client, new JsonObject().put("surfaceId", mine.id()).put("ttlSeconds", 600)).getString("token");

    assertThat(client.withToken(token, "GET", "/admin/overview", null).status()).isEqualTo(401);
    assertThat(client.withToken(token, "GET", "/admin/webhook-endpoints", null).status()).isEqualTo(401);
    assertThat(client.admin("GET", "/portal/api/webhook-endpoints", null).status()).isEqualTo(401);
    assertThat(client.withToken(token, "GET", "/portal/api/scope", null).json().getString("surfaceId")).isEqualTo(mine.id());

    // The payload names another surface but keeps the old signature: refused.
    String forged = tamper(token, mine.id(), "other");
    assertThat(client.withToken(forged, "GET", "/portal/api/webhook-endpoints", null).status()).isEqualTo(401);

    PortalTokens tokens = new PortalTokens(signingKey());
    String expired = tokens.mint(new PortalScope(mine.id(), null, Instant.now().minusSeconds(1)));
    Reply refused = client.withToken(expired, "GET", "/portal/api/webhook-endpoints", null);
    assertThat(refused.status()).isEqualTo(401);
    assertThat(refused.error()).isEqualTo("portal_link_expired");

    assertThat(client.admin("POST", "/admin/portal-links", new JsonObject()).error()).isEqualTo("invalid_field");
    assertThat(client.admin("POST", "/admin/portal-links", new JsonObject().put("surfaceId", "no-such-surface")).status())
        .isEqualTo(400);
  }

  @Test
  void aForwardedProtoFromAnUntrustedPeerDoesNotChangeTheLinksScheme() {
    GatewayClient client = gateway.client();
    Reply minted = client.post("/admin/portal-links", "application/json",
        new JsonObject().put("surfaceId", client.createSurface().id()).encode(),
        "authorization", "Bearer " + TestBackends.ADMIN_TOKEN, "x-forwarded-proto", "https");
    assertThat(minted.status()).isEqualTo(201);
    assertThat(minted.json().getString("url")).startsWith("http://");
  }

  @Test
  void anAffiliateLinkSeesItsPostbackTemplatesWithTheirHealthAndNoOneElses() {
    GatewayClient client = gateway.client();
    GatewayClient.TestSurface mine = client.createSurface();
    GatewayClient.TestSurface theirs = client.createSurface();
    String affiliate = client.createAffiliate("active");
    String other = client.createAffiliate("active");
    String unscoped = postback(client, affiliate, null);
    String onMySurface = postback(client, affiliate, mine.id());
    String onTheirSurface = postback(client, affiliate, theirs.id());
    String foreign = postback(client, other, null);
    String endpoint = client.admin("POST", "/admin/webhook-endpoints", new JsonObject()
        .put("url", "http://127.0.0.1:9/hook").put("affiliateId", affiliate)).json().getString("id");

    String affiliateOnly = mint(client, new JsonObject().put("affiliateId", affiliate)).getString("token");
    JsonArray all = client.withToken(affiliateOnly, "GET", "/portal/api/postbacks", null).json().getJsonArray("items");
    assertThat(all.stream().map(e -> ((JsonObject) e).getString("id")))
        .containsExactlyInAnyOrder(unscoped, onMySurface, onTheirSurface);
    assertThat(all.getJsonObject(0).containsKey("secret")).isFalse();
    assertThat(all.getJsonObject(0).getJsonObject("health").getLong("attempts")).isZero();
    // Templates are not webhook endpoints: the portal's endpoint list shows the endpoint only.
    assertThat(client.withToken(affiliateOnly, "GET", "/portal/api/webhook-endpoints", null).json().getJsonArray("items")
        .stream().map(e -> ((JsonObject) e).getString("id"))).containsExactly(endpoint);
    // Nor can a template be reached, changed or read through the endpoint routes: the portal shows them read-only.
    for (String[] call : new String[][] {{"GET", ""}, {"GET", "/attempts"}, {"GET", "/health"}, {"POST", "/secrets"},
        {"POST", "/test"}, {"POST", "/replay?since=2026-01-01T00:00:00Z"}, {"DELETE", ""}}) {
      assertThat(client.withToken(affiliateOnly, call[0], "/portal/api/webhook-endpoints/" + unscoped + call[1],
          call[0].equals("POST") && call[1].equals("/secrets") ? new JsonObject() : null).status())
          .as("%s %s of a template", call[0], call[1]).isEqualTo(404);
    }
    assertThat(client.withToken(affiliateOnly, "GET", "/portal/api/deliveries?endpointId=" + unscoped, null).status())
        .isEqualTo(404);
    // The admin's endpoint routes too: a template has its own API under /admin/affiliates/{id}/postbacks.
    assertThat(client.admin("GET", "/admin/webhook-endpoints/" + unscoped + "/attempts", null).status()).isEqualTo(404);

    String onSurface = mint(client, new JsonObject().put("affiliateId", affiliate).put("surfaceId", mine.id()))
        .getString("token");
    assertThat(client.withToken(onSurface, "GET", "/portal/api/postbacks", null).json().getJsonArray("items").stream()
        .map(e -> ((JsonObject) e).getString("id"))).containsExactlyInAnyOrder(unscoped, onMySurface);

    String surfaceOnly = mint(client, new JsonObject().put("surfaceId", mine.id())).getString("token");
    assertThat(client.withToken(surfaceOnly, "GET", "/portal/api/postbacks", null).status()).isEqualTo(404);
    assertThat(client.withToken(affiliateOnly, "GET", "/admin/affiliates/" + affiliate + "/postbacks", null).status())
        .isEqualTo(401);
    assertThat(foreign).isNotNull();
  }

  private static String postback(GatewayClient client, String affiliateId, String surfaceId) {
    JsonObject body = new JsonObject().put("url", "http://127.0.0.1:9/pb?cid={click_id}");
    if (surfaceId != null) {
      body.put("surfaceId", surfaceId);
    }
    Reply r = client.admin("POST", "/admin/affiliates/" + affiliateId + "/postbacks", body);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().getString("id");
  }

  private static JsonObject mint(GatewayClient client, JsonObject body) {
    Reply r = client.admin("POST", "/admin/portal-links", body);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().getString("url")).contains("/portal/#token=ptl_");
    return r.json();
  }

  private static String endpoint(GatewayClient client, String surfaceId, String affiliateId) {
    JsonObject body = new JsonObject().put("url", "http://127.0.0.1:9/hook").put("surfaceId", surfaceId);
    if (affiliateId != null) {
      body.put("affiliateId", affiliateId);
    }
    Reply r = client.admin("POST", "/admin/webhook-endpoints", body);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().getString("id");
  }

  private static String deliveryOf(String endpointId) {
    try (Connection c = TestBackends.jdbc(); var st = c.prepareStatement("SELECT id FROM deliveries WHERE endpoint_id = ?")) {
      st.setString(1, endpointId);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] signingKey() throws Exception {
    try (Connection c = TestBackends.jdbc(); var st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT key FROM portal_signing_key WHERE id = 1")) {
      rs.next();
      return rs.getBytes(1);
    }
  }

  private static String tamper(String token, String from, String to) {
    int dot = token.indexOf('.');
    Base64.Decoder dec = Base64.getUrlDecoder();
    String payload = new String(dec.decode(token.substring(4, dot)), StandardCharsets.UTF_8).replace(from, to);
    return "ptl_" + Base64.getUrlEncoder().withoutPadding().encodeToString(
        payload.getBytes(StandardCharsets.UTF_8)) + token.substring(dot);
  }
}
