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

import static org.assertj.core.api.Assertions.assertThat;

/** SPEC §2 and §4: tracking links, clicks, attribution and commission, over real sockets, Postgres and Redis. */
class AttributionTest {
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
  }

  static String sale(String externalId, long gross, String clickId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":" + gross
        + ",\"currency\":\"USD\"" + (clickId == null ? "" : ",\"clickId\":\"" + clickId + "\"") + "}";
  }

  @Test
  void clickThenConversionInsideTheWindowIsAttributedWithTheRuleCommission() {
    client.createRule(surface, "sale", 500L, null, null);
    String code = client.createLink(surface, affiliate, "https://shop.example/p", null);
    String clickId = client.click(code);

    Reply r = client.postback(surface, sale("o-1", 4999, clickId));

    assertThat(r.status()).isEqualTo(200);
    JsonObject body = r.json();
    assertThat(body.getString("status")).isEqualTo("attributed");
    assertThat(body.getString("affiliateId")).isEqualTo(affiliate);
    assertThat(body.getLong("commissionMinor")).isEqualTo(500);
    assertThat(body.getString("currency")).isEqualTo("USD");
    String conversionId = body.getString("conversionId");
    assertThat(TestBackends.queryLong("SELECT sum(amount_minor) FROM commissions WHERE conversion_id = ? "
        + "AND affiliate_id = ? AND kind = 'commission'", conversionId, affiliate)).isEqualTo(500);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'commission.created' "
        + "AND data->>'conversionId' = ?", conversionId)).isEqualTo(1);
  }

  @Test
  void clickIsRecordedWithItsDetailsAndRedirectKeepsTheQueryString() {
    String code = client.createLink(surface, affiliate, "https://shop.example/p?ref=x#top", null);

    Reply r = client.get("/c/" + code + "?sub1=campaign&sub5=e", "user-agent", "TestBrowser/1", "referer", "https://blog.example/");

    assertThat(r.status()).isEqualTo(302);
    assertThat(r.location()).startsWith("https://shop.example/p?ref=x&clickId=ck_").endsWith("#top");
    String clickId = r.location().substring(r.location().indexOf("clickId=") + 8, r.location().indexOf('#'));
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE id = ? AND link_code = ? AND affiliate_id = ? "
        + "AND surface_id = ? AND user_agent = 'TestBrowser/1' AND referrer = 'https://blog.example/' "
        + "AND sub1 = 'campaign' AND sub5 = 'e' AND sub2 IS NULL AND ip IS NOT NULL AND NOT affiliate_suspended",
        clickId, code, affiliate, surface.id())).isEqualTo(1);
  }

  @Test
  void adminRefusesRulesAndLinksThatNameNothing() {
    Reply rule = client.admin("POST", "/admin/commission-rules", new JsonObject().put("surfaceId", "no-such-surface")
        .put("eventType", "sale").put("percentBps", 100));
    assertThat(rule.status()).isEqualTo(400);
    assertThat(rule.json().getString("field")).isEqualTo("surfaceId");
    Reply forAffiliate = client.admin("POST", "/admin/commission-rules", new JsonObject().put("surfaceId", surface.id())
        .put("eventType", "sale").put("percentBps", 100).put("affiliateId", "no-such-affiliate"));
    assertThat(forAffiliate.json().getString("field")).isEqualTo("affiliateId");
    Reply both = client.admin("POST", "/admin/commission-rules", new JsonObject().put("surfaceId", surface.id())
        .put("eventType", "sale").put("percentBps", 100).put("flatMinor", 5).put("currency", "USD"));
    assertThat(both.status()).isEqualTo(400);
    Reply link = client.admin("POST", "/admin/links", new JsonObject().put("surfaceId", surface.id())
        .put("affiliateId", affiliate).put("destinationUrl", "javascript:alert(1)"));
    assertThat(link.json().getString("field")).isEqualTo("destinationUrl");
    Reply dupPromo = client.admin("POST", "/admin/links", new JsonObject().put("surfaceId", surface.id())
        .put("affiliateId", affiliate).put("destinationUrl", "https://a.example/").put("promoCode", "P1"));
    assertThat(dupPromo.status()).isEqualTo(201);
    assertThat(client.admin("POST", "/admin/links", new JsonObject().put("surfaceId", surface.id())
        .put("affiliateId", affiliate).put("destinationUrl", "https://a.example/").put("promoCode", "P1")).status())
        .isEqualTo(409);
  }

  @Test
  void unknownLinkCodeIsA404Page() {
    Reply r = client.get("/c/no-such-code");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body()).contains("Link not found");
  }

  @Test
  void conversionOneMillisecondAfterItsClickIsAttributed() throws Exception {
    client.createRule(surface, "sale", 100L, null, null);
    String code = client.createLink(surface, affiliate, "https://shop.example/", null);
    for (int i = 0; i < 20; i++) {
      String clickId = client.click(code);
      Thread.sleep(1);
      Reply r = client.postback(surface, sale("fast-" + i, 1000, clickId));
      assertThat(r.json().getString("status")).isEqualTo("attributed");
      assertThat(r.json().getLong("commissionMinor")).isEqualTo(100);
    }
  }

  @Test
  void clickIsResolvedFromPostgresWhenRedisForgotIt() {
    client.createRule(surface, "sale", 100L, null, null);
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    TestBackends.redis("FLUSHALL");

    Reply r = client.postback(surface, sale("o-pg", 1000, clickId));

    assertThat(r.json().getString("status")).isEqualTo("attributed");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
  }

  @Test
  void conversionOutsideTheAttributionWindowIsUnattributed() {
    client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("attributionWindowSeconds", 60));
    client.createRule(surface, "sale", 500L, null, null);
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    String later = Instant.now().plus(10, ChronoUnit.MINUTES).toString();

    Reply r = client.postback(surface, "{\"externalId\":\"o-late\",\"eventType\":\"sale\",\"grossMinor\":1000,"
        + "\"currency\":\"USD\",\"clickId\":\"" + clickId + "\",\"occurredAt\":\"" + later + "\"}");

    assertThat(r.json().getString("status")).isEqualTo("unattributed");
    assertThat(r.json().getString("affiliateId")).isNull();
    assertThat(r.json().getLong("commissionMinor")).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM commissions WHERE conversion_id = ?",
        r.json().getString("conversionId"))).isZero();
  }

  @Test
  void clickOfAnotherSurfaceDoesNotAttribute() {
    TestSurface other = client.createSurface();
    String clickId = client.click(client.createLink(other, affiliate, "https://shop.example/", null));
    Reply r = client.postback(surface, sale("o-other", 1000, clickId));
    assertThat(r.json().getString("status")).isEqualTo("unattributed");
  }

  @Test
  void promoCodeAttributesWhenThereIsNoClick() {
    client.createRule(surface, "sale", null, 1000, null);
    client.createLink(surface, affiliate, "https://shop.example/", "SUMMER10");

    Reply r = client.postback(surface, "{\"externalId\":\"o-promo\",\"eventType\":\"sale\",\"grossMinor\":2000,"
        + "\"currency\":\"EUR\",\"promoCode\":\"SUMMER10\"}");

    assertThat(r.json().getString("status")).isEqualTo("attributed");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(r.json().getLong("commissionMinor")).isEqualTo(200);
    assertThat(r.json().getString("currency")).isEqualTo("EUR");
  }

  @Test
  void affiliateRuleOverridesTheSurfaceDefault() {
    String other = client.createAffiliate("active");
    client.createRule(surface, "sale", null, 1000, null);
    client.createRule(surface, "sale", null, 2000, affiliate);
    String mine = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    String theirs = client.click(client.createLink(surface, other, "https://shop.example/", null));

    assertThat(client.postback(surface, sale("o-mine", 10000, mine)).json().getLong("commissionMinor")).isEqualTo(2000);
    assertThat(client.postback(surface, sale("o-theirs", 10000, theirs)).json().getLong("commissionMinor")).isEqualTo(1000);
  }

  @Test
  void percentageCommissionRoundsHalfUpInMinorUnits() {
    client.createRule(surface, "sale", null, 1250, null);
    String code = client.createLink(surface, affiliate, "https://shop.example/", null);

    // 4999 × 12.5 % = 624.875 → 625; 4998 → 624.75 → 625; 4994 → 624.25 → 624; 4996 → 624.5 → 625 (half up)
    assertThat(client.postback(surface, sale("r-1", 4999, client.click(code))).json().getLong("commissionMinor")).isEqualTo(625);
    assertThat(client.postback(surface, sale("r-2", 4998, client.click(code))).json().getLong("commissionMinor")).isEqualTo(625);
    assertThat(client.postback(surface, sale("r-3", 4994, client.click(code))).json().getLong("commissionMinor")).isEqualTo(624);
    assertThat(client.postback(surface, sale("r-4", 4996, client.click(code))).json().getLong("commissionMinor")).isEqualTo(625);
    assertThat(client.postback(surface, sale("r-5", 3, client.click(code))).json().getLong("commissionMinor")).isZero();
  }

  @Test
  void suspendedAffiliateStillRedirectsButEarnsNothing() {
    client.createRule(surface, "sale", 500L, null, null);
    String code = client.createLink(surface, affiliate, "https://shop.example/", null);
    Reply suspended = client.admin("PATCH", "/admin/affiliates/" + affiliate, new JsonObject().put("status", "suspended"));
    assertThat(suspended.json().getString("status")).isEqualTo("suspended");
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'affiliate.suspended' "
        + "AND data->>'affiliateId' = ?", affiliate)).isEqualTo(1);

    String clickId = client.click(code);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE id = ? AND affiliate_suspended", clickId))
        .isEqualTo(1);
    Reply r = client.postback(surface, sale("o-susp", 1000, clickId));

    assertThat(r.json().getString("status")).isEqualTo("affiliate_suspended");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(r.json().getLong("commissionMinor")).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM commissions WHERE affiliate_id = ?", affiliate)).isZero();
  }

  @Test
  void conversionTooSoonAfterItsClickIsFlaggedAsFraud() {
    client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("minClickToConversionMs", 60_000));
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));

    Reply r = client.postback(surface, sale("o-bot", 1000, clickId));

    assertThat(r.json().getString("status")).isEqualTo("attributed");
    String id = r.json().getString("conversionId");
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE id = ? "
        + "AND fraud_reason = 'click_to_conversion_too_fast'", id)).isEqualTo(1);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'fraud.detected' "
        + "AND data->>'conversionId' = ?", id)).isEqualTo(1);
  }

  @Test
  void duplicateOfAnAttributedConversionAnswersTheSameCommissionAndWritesNoSecondEntry() {
    client.createRule(surface, "sale", 500L, null, null);
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    Reply first = client.postback(surface, sale("o-dup", 1000, clickId));
    Reply second = client.postback(surface, sale("o-dup", 1000, clickId));

    assertThat(second.json().getBoolean("duplicate")).isTrue();
    assertThat(second.json().getLong("commissionMinor")).isEqualTo(500);
    assertThat(second.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM commissions WHERE conversion_id = ?",
        first.json().getString("conversionId"))).isEqualTo(1);
  }

  @Test
  void attributionClickAndCommissionMetricsAreExported() {
    client.createRule(surface, "sale", 700L, null, null);
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    client.postback(surface, sale("o-metrics", 1000, clickId));
    String metrics = client.get("/metrics").body();
    assertThat(metrics).contains("gateway_attributions_total{status=\"attributed\"}")
        .contains("gateway_clicks_total{outcome=\"recorded\"}")
        .contains("gateway_commission_minor_total{currency=\"USD\"}");
  }

  @Test
  void clickThatPostgresCannotTakeRedirectsWithoutAClickId() {
    String code = client.createLink(surface, affiliate, "https://shop.example/landing", null);
    client.click(code);
    TestBackends.postgres().stop();
    try {
      Reply r = client.get("/c/" + code);
      assertThat(r.status()).isEqualTo(302);
      assertThat(r.location()).isEqualTo("https://shop.example/landing");
    } finally {
      TestBackends.postgres().start();
    }
  }
}
