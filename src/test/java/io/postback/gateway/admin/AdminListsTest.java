package io.postback.gateway.admin;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.SharedGateway;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a program admin created can be listed, filtered and paged through (SPEC §7): surfaces,
 * affiliates, links, payouts and deliveries; and what cannot exist is refused instead of recorded.
 */
class AdminListsTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private static GatewayClient client;

  @BeforeAll
  static void start() {
    client = gateway.client();
  }

  @Test
  void surfacesArePagedInIdOrderAndSearchedByNameWithoutPatternSyntax() {
    String tag = "ls" + UUID.randomUUID().toString().substring(0, 8);
    for (int i = 0; i < 5; i++) {
      assertThat(client.admin("POST", "/admin/surfaces",
          new JsonObject().put("id", tag + "-" + i).put("name", "Shop 100% " + tag + " " + i)).status()).isEqualTo(201);
    }
    List<String> seen = walk("/admin/surfaces?q=" + tag + "&limit=2", "id");
    assertThat(seen).containsExactly(tag + "-0", tag + "-1", tag + "-2", tag + "-3", tag + "-4");

    // '%' and '_' are text here, not LIKE wildcards: "100%" matches, "1_0" does not.
    assertThat(walk("/admin/surfaces?q=" + enc("100% " + tag), "id")).hasSize(5);
    assertThat(walk("/admin/surfaces?q=" + enc("1_0% " + tag), "id")).isEmpty();
    assertThat(client.admin("GET", "/admin/surfaces?q=" + tag, null).body()).doesNotContain("pbs_");
  }

  @Test
  void affiliatesFilterByStatusAndLinksBySurfaceAndAffiliate() {
    String tag = "la" + UUID.randomUUID().toString().substring(0, 8);
    client.admin("POST", "/admin/surfaces", new JsonObject().put("id", tag + "-s1").put("name", "one"));
    client.admin("POST", "/admin/surfaces", new JsonObject().put("id", tag + "-s2").put("name", "two"));
    client.admin("POST", "/admin/affiliates", new JsonObject().put("id", tag + "-a").put("name", "A").put("status", "active"));
    client.admin("POST", "/admin/affiliates", new JsonObject().put("id", tag + "-b").put("name", "B"));
    for (String[] link : new String[][] {{"s1", "a"}, {"s1", "b"}, {"s2", "a"}}) {
      assertThat(client.admin("POST", "/admin/links", new JsonObject().put("surfaceId", tag + "-" + link[0])
          .put("affiliateId", tag + "-" + link[1]).put("destinationUrl", "https://shop.example/")).status()).isEqualTo(201);
    }

    assertThat(walk("/admin/affiliates?q=" + tag + "&status=active", "id")).containsExactly(tag + "-a");
    assertThat(walk("/admin/affiliates?q=" + tag + "&status=pending", "id")).containsExactly(tag + "-b");
    assertThat(client.admin("GET", "/admin/affiliates?status=gone", null).json().getString("field")).isEqualTo("status");

    JsonArray ofS1 = client.admin("GET", "/admin/links?surfaceId=" + tag + "-s1", null).json().getJsonArray("items");
    assertThat(ofS1).hasSize(2);
    assertThat(ofS1.getJsonObject(0).getString("trackingUrl")).contains("/c/");
    assertThat(walk("/admin/links?surfaceId=" + tag + "-s1&affiliateId=" + tag + "-a&limit=1", "code")).hasSize(1);
    assertThat(walk("/admin/links?affiliateId=" + tag + "-a&limit=1", "code")).hasSize(2);
  }

  @Test
  void payoutsListNewestFirstByAffiliateAndStatusAndRefuseAnUnknownAffiliate() {
    String aff = "pa" + UUID.randomUUID().toString().substring(0, 8);
    client.admin("POST", "/admin/affiliates", new JsonObject().put("id", aff).put("name", "Payee"));
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Reply made = client.admin("POST", "/admin/payouts",
          new JsonObject().put("affiliateId", aff).put("amountMinor", 100 * i).put("currency", "EUR"));
      assertThat(made.status()).isEqualTo(201);
      ids.add(made.json().getString("id"));
    }
    client.admin("PATCH", "/admin/payouts/" + ids.get(0), new JsonObject().put("status", "completed"));

    assertThat(walk("/admin/payouts?affiliateId=" + aff + "&limit=2", "id"))
        .containsExactly(ids.get(2), ids.get(1), ids.get(0));
    assertThat(walk("/admin/payouts?affiliateId=" + aff + "&status=completed", "id")).containsExactly(ids.get(0));

    Reply unknown = client.admin("POST", "/admin/payouts",
        new JsonObject().put("affiliateId", aff + "-nobody").put("amountMinor", 100).put("currency", "EUR"));
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).isEqualTo("unknown_affiliate");
    assertThat(walk("/admin/payouts?affiliateId=" + aff + "-nobody", "id")).isEmpty();
  }

  @Test
  void aReportForAnUnknownCampaignIsRefused() {
    Reply unknown = client.admin("POST", "/v1/reports/attribution", new JsonObject()
        .put("start_date", "2026-01-01").put("end_date", "2026-01-02").put("campaign_id", "no-such-surface"));
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).isEqualTo("unknown_campaign");
    assertThat(unknown.json().getString("field")).isEqualTo("campaign_id");
  }

  @Test
  void deliveriesWithoutAStatusListEveryStatus() {
    Reply all = client.admin("GET", "/admin/deliveries?limit=5", null);
    assertThat(all.status()).isEqualTo(200);
    assertThat(all.json().containsKey("items")).isTrue();
    assertThat(client.admin("GET", "/admin/deliveries?status=bogus", null).status()).isEqualTo(400);
  }

  /** Follows nextCursor to the end and collects one field of every item. */
  private static List<String> walk(String path, String field) {
    List<String> out = new ArrayList<>();
    String cursor = null;
    for (int pages = 0; pages < 50; pages++) {
      Reply page = client.admin("GET", path + (cursor == null ? "" : "&cursor=" + enc(cursor)), null);
      assertThat(page.status()).as(page.body()).isEqualTo(200);
      page.json().getJsonArray("items").forEach(i -> out.add(((JsonObject) i).getString(field)));
      cursor = page.json().getString("nextCursor");
      if (cursor == null) {
        return out;
      }
    }
    throw new AssertionError("pagination did not end");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
