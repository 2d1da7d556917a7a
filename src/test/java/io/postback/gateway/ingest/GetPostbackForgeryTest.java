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
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPEC §3.3 with the query HMAC: the signature covers exactly the parameters the gateway reads
 * (docs/attribution.md), so no parameter smuggled in with another separator, case or encoding takes
 * effect; and the GET postback token can be switched off and rotated with a grace time.
 */
class GetPostbackForgeryTest {
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
    client.createLink(surface, affiliate, "https://shop.example/", "PROMO");
    token = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token", new JsonObject().put("graceSeconds", 0))
        .json().getString("postbackToken");
  }

  String signed(String... params) {
    return "/v1/postback?" + GatewayClient.signedQuery(surface.secret(), String.valueOf(System.currentTimeMillis()),
        ClassicPostbackRoutes.SIGNED_NAMES, params);
  }

  /** What a forged request could have changed: rows, approvals, commission, ledger, events. */
  String state() {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id()) + "/"
        + TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND approval = 'approved'", surface.id()) + "/"
        + TestBackends.queryLong("SELECT COALESCE(sum(commission_minor), 0) FROM conversions WHERE surface_id = ?", surface.id()) + "/"
        + TestBackends.queryLong("SELECT COALESCE(sum(amount_minor), 0) FROM commissions WHERE affiliate_id = ?", affiliate) + "/"
        + TestBackends.queryLong("SELECT count(*) FROM events WHERE surface_id = ?", surface.id());
  }

  @ParameterizedTest(name = "signed URL + {0}")
  @ValueSource(strings = {
      ";status=rejected",
      ";STATUS=rejected",
      "&status=rejected",
      "&amp;status=rejected",
      ";clickid=ck_other",
      ";event=refund;refund_of=order-9",
      ";amount=1.00",
      ";cur=EUR",
      ";surface=other",
      "%3Bstatus%3Drejected",
      "%3bstatus%3drejected",
      "&St%61tus=rejected",
  })
  void aParameterSmuggledAfterTheSignatureIsRefusedAndChangesNothing(String smuggled) {
    String url = signed("surface", surface.id(), "txid", "order-1", "amount", "100.00", "currency", "USD",
        "promo_code", "PROMO");
    Reply first = client.get(url);
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json().getLong("commissionMinor")).isEqualTo(1000);
    String before = state();

    Reply forged = client.get(url + smuggled);

    // Refused: unsigned (401), or a second surface conflicting with the signed one (400).
    assertThat(forged.status()).as(forged.body()).isIn(400, 401);
    assertThat(forged.error()).isIn("bad_signature", "invalid_field");
    assertThat(state()).isEqualTo(before);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'order-1' "
        + "AND approval = 'approved' AND commission_minor = 1000", surface.id())).isEqualTo(1);
  }

  @Test
  void aParameterSmuggledInsideTheSignedQueryIsRefused() {
    String url = signed("surface", surface.id(), "txid", "order-2", "amount", "100.00", "currency", "USD");
    // Inserted between the signed parameters, with each separator.
    for (String forged : List.of(url.replace("&amount=", ";status=rejected&amount="),
        url.replace("&amount=", "&clickid=ck_x&amount="), url.replace("txid=order-2", "txid=order-2;promo_code=PROMO"))) {
      Reply r = client.get(forged);
      assertThat(r.status()).as(forged).isEqualTo(401);
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isZero();
  }

  @Test
  void trackersOwnParametersAreIgnoredWhateverTheSeparator() {
    Reply r = client.get(signed("surface", surface.id(), "txid", "order-3", "amount", "5", "currency", "USD")
        + "&utm_source=net;aff_sub=42&amp;x=1&%3B=%26");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
  }

  @Test
  void theSignatureCoversDecodedValuesNotTheirSpelling() {
    String ts = String.valueOf(System.currentTimeMillis());
    String query = GatewayClient.signedQuery(surface.secret(), ts, ClassicPostbackRoutes.SIGNED_NAMES,
        "surface", surface.id(), "txid", "order 4/é", "amount", "5.00", "currency", "USD");
    String sig = query.substring(query.indexOf("&sig=") + 5);
    assertThat(client.get("/v1/postback?" + query).status()).isEqualTo(200);

    // The same values, other separators, order, encodings and name case: the same signature verifies.
    String respelled = "/v1/postback?CURRENCY=US%44;sig=" + sig + ";amount=5.00&txid=order+4%2f%C3%A9;ts=" + ts
        + "&Surface=" + surface.id();
    Reply again = client.get(respelled);
    assertThat(again.status()).as(again.body()).isEqualTo(200);
    assertThat(again.json().getBoolean("duplicate")).isTrue();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'order 4/é'",
        surface.id())).isEqualTo(1);
  }

  @Test
  void aSecondSigOrTsIsRefused() {
    String url = signed("surface", surface.id(), "txid", "order-5", "amount", "5", "currency", "USD");
    String sig = url.substring(url.indexOf("&sig=") + 5);
    Reply twoSigs = client.get(url + ";sig=" + sig);
    assertThat(twoSigs.status()).isEqualTo(400);
    assertThat(twoSigs.error()).isEqualTo("duplicate_parameter");
    Reply twoTs = client.get(url + "&ts=1");
    assertThat(twoTs.status()).isEqualTo(400);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isZero();
  }

  @Test
  void timestampsOutsideALongAreRefusedBeforeAnyArithmetic() {
    String base = "/v1/postback?surface=" + surface.id() + "&txid=order-6&sig=" + "ab".repeat(32) + "&ts=";
    for (String ts : List.of(String.valueOf(Long.MIN_VALUE), String.valueOf(Long.MAX_VALUE), "99999999999999999999", "-1",
        "%2B1", "1e3")) {
      Reply r = client.get(base + ts);
      assertThat(r.status()).as(ts).isEqualTo(401);
      assertThat(r.error()).as(ts).isEqualTo("invalid_timestamp");
    }
  }

  @Test
  void anUndecodableQueryIsA400NotA500() {
    for (String query : List.of("txid=%zz", "txid=a%", "surface=" + surface.id() + "&token=" + token + "&txid=%G0")) {
      Reply r = client.rawRequest(("GET /v1/postback?" + query + " HTTP/1.1\r\nhost: gw\r\n")
          .getBytes(StandardCharsets.US_ASCII), new byte[0]);
      assertThat(r.status()).as(query).isEqualTo(400);
      assertThat(r.error()).as(query).isEqualTo("malformed_query");
    }
  }

  @Test
  void withTokenAuthSwitchedOffOnlyTheHmacAuthenticates() {
    Reply patched = client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("postbackTokenEnabled", false));
    assertThat(patched.json().getBoolean("postbackTokenEnabled")).isFalse();
    assertThat(patched.body()).doesNotContain(token);

    Reply byQuery = client.get("/v1/postback?surface=" + surface.id() + "&token=" + token + "&txid=order-7&amount=1&currency=USD");
    Reply byPath = client.get("/v1/postback/" + surface.id() + "/" + token + "?txid=order-7&amount=1&currency=USD");
    assertThat(byQuery.status()).isEqualTo(401);
    assertThat(byQuery.error()).isEqualTo("token_auth_disabled");
    assertThat(byPath.error()).isEqualTo("token_auth_disabled");
    Reply hmac = client.get(signed("surface", surface.id(), "txid", "order-7", "amount", "1", "currency", "USD"));
    assertThat(hmac.status()).isEqualTo(200);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isEqualTo(1);

    client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("postbackTokenEnabled", true));
    assertThat(client.get("/v1/postback/" + surface.id() + "/" + token + "?txid=order-8").status()).isEqualTo(200);
  }

  @Test
  void aRenewedTokenLeavesThePreviousOneValidUntilItsGraceTime() {
    Reply renewed = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token",
        new JsonObject().put("graceSeconds", 3));
    assertThat(renewed.status()).isEqualTo(201);
    String newToken = renewed.json().getString("postbackToken");
    assertThat(newToken).startsWith("pbt_").isNotEqualTo(token);
    assertThat(renewed.json().getString("previousPostbackTokenValidUntil")).isNotNull();
    Reply shown = client.admin("GET", "/admin/surfaces/" + surface.id(), null);
    assertThat(shown.json().getString("previousPostbackTokenValidUntil"))
        .isEqualTo(renewed.json().getString("previousPostbackTokenValidUntil"));
    assertThat(shown.body()).doesNotContain(token).doesNotContain(newToken);

    assertThat(client.get("/v1/postback/" + surface.id() + "/" + token + "?txid=old-1").status()).isEqualTo(200);
    assertThat(client.get("/v1/postback/" + surface.id() + "/" + newToken + "?txid=new-1").status()).isEqualTo(200);

    Await.until("the previous token expires", Duration.ofSeconds(15),
        () -> client.get("/v1/postback/" + surface.id() + "/" + token + "?txid=old-2").status() == 401);
    Reply expired = client.get("/v1/postback?surface=" + surface.id() + "&token=" + token + "&txid=old-3");
    assertThat(expired.error()).isEqualTo("bad_token");
    assertThat(client.get("/v1/postback/" + surface.id() + "/" + newToken + "?txid=new-2").status()).isEqualTo(200);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'old-3'",
        surface.id())).isZero();
  }

  @Test
  void aTokenRenewedWithoutGraceStopsTheOldOneAtOnce() {
    String newToken = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token",
        new JsonObject().put("graceSeconds", 0)).json().getString("postbackToken");
    assertThat(client.get("/v1/postback/" + surface.id() + "/" + token + "?txid=g-1").error()).isEqualTo("bad_token");
    assertThat(client.get("/v1/postback/" + surface.id() + "/" + newToken + "?txid=g-2").status()).isEqualTo(200);
  }
}
