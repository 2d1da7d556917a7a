package io.postback.gateway.limit;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random surface ids and link codes cost a bounded number of Postgres look-ups on the control pool,
 * whatever their volume, and real surfaces and links keep working.
 */
class UnknownIdLookupsTest {
  private static final int BUDGET = 5;
  private static final int JUNK = 2_000;

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway(Map.of(
      "GATEWAY_UNKNOWN_ID_LOOKUPS_PER_SECOND", String.valueOf(BUDGET)));

  private static double count(String kind, String outcome) {
    String scrape = gateway.client().get("/metrics").body();
    Matcher m = Pattern.compile("^gateway_unknown_id_lookups_total\\{kind=\"" + kind + "\",outcome=\"" + outcome
        + "\"} ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  private static double reachedPostgres(String kind) {
    return count(kind, "found") + count(kind, "absent") + count(kind, "failed");
  }

  private static String junk() {
    return "junk-" + UUID.randomUUID();
  }

  private static String signup(String externalId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"signup\"}";
  }

  @Test
  void randomSurfaceIdsAndLinkCodesCostABoundedNumberOfLookUpsAndRealOnesKeepWorking() {
    GatewayClient client = gateway.client();
    String affiliate = client.createAffiliate("active");
    // One junk id of each kind, looked up (absent) before the flood: the flood must not flush it.
    String rememberedSurface = junk();
    String rememberedCode = junk();
    double absentSurfaces = count("surface", "absent");
    double absentLinks = count("link", "absent");
    // Asked until a look-up within the budget finds them absent (another test may have spent the budget).
    Await.until("the junk ids were looked up", Duration.ofSeconds(10), () -> {
      assertThat(client.postback(new TestSurface(rememberedSurface, "pbs_x"), signup("r")).error())
          .isEqualTo("unknown_surface");
      return count("surface", "absent") > absentSurfaces;
    });
    Await.until("the junk ids were looked up", Duration.ofSeconds(10), () -> {
      assertThat(client.get("/c/" + rememberedCode).status()).isEqualTo(404);
      return count("link", "absent") > absentLinks;
    });
    double surfaceBefore = reachedPostgres("surface");
    double linkBefore = reachedPostgres("link");
    double cachedSurfaceBefore = count("surface", "cached");
    double cachedLinkBefore = count("link", "cached");

    long start = System.nanoTime();
    List<CompletableFuture<Reply>> flood = new ArrayList<>();
    for (int i = 0; i < JUNK; i++) {
      flood.add(client.postbackAsync(new TestSurface(junk(), "pbs_x"), signup("j" + i)));
      flood.add(client.getAsync("/c/" + junk()));
      if (i == JUNK / 2) {
        // Mid-flood, with the budget spent: what this instance's admin API creates works at once.
        TestSurface fresh = client.createSurface();
        assertThat(client.postback(fresh, signup("fresh")).status()).isEqualTo(200);
        String code = client.createLink(fresh, affiliate, "https://shop.example/", null);
        assertThat(client.get("/c/" + code).status()).isEqualTo(302);
      }
    }
    for (CompletableFuture<Reply> f : flood) {
      assertThat(f.join().status()).isIn(401, 404);
    }
    double seconds = (System.nanoTime() - start) / 1e9;

    double surfaceLookups = reachedPostgres("surface") - surfaceBefore;
    double linkLookups = reachedPostgres("link") - linkBefore;
    // A budget of BUDGET per second (and a first second's worth): 4,000 junk requests, a few dozen queries.
    double bound = BUDGET * (seconds + 1) + 2;
    assertThat(surfaceLookups).as("surface look-ups in %.1f s", seconds).isLessThanOrEqualTo(bound);
    assertThat(linkLookups).as("link look-ups in %.1f s", seconds).isLessThanOrEqualTo(bound);
    assertThat(count("surface", "over_budget")).isGreaterThanOrEqualTo(JUNK - bound);
    assertThat(count("link", "over_budget")).isGreaterThanOrEqualTo(JUNK - bound);

    // The id seen before the flood is still remembered as unknown: answered without a query.
    client.postback(new TestSurface(rememberedSurface, "pbs_x"), signup("r2"));
    client.get("/c/" + rememberedCode);
    assertThat(count("surface", "cached")).isEqualTo(cachedSurfaceBefore + 1);
    assertThat(count("link", "cached")).isEqualTo(cachedLinkBefore + 1);
  }

  @Test
  void aSurfaceAndALinkCreatedByAnotherInstanceWorkWithinTheRefreshIntervalEvenUnderAFlood() {
    GatewayClient client = gateway.client();
    String affiliate = client.createAffiliate("active");
    TestSurface home = client.createSurface();
    // As another instance would: rows written straight to Postgres, unknown to this instance's memory.
    String surfaceId = "elsewhere-" + UUID.randomUUID();
    String code = "elsewhere-" + UUID.randomUUID();
    TestBackends.execute("INSERT INTO surfaces (id, name, secret) VALUES ('" + surfaceId + "', 'other', 'pbs_elsewhere')");
    TestBackends.execute("INSERT INTO links (code, surface_id, affiliate_id, destination_url) VALUES ('" + code + "', '"
        + home.id() + "', '" + affiliate + "', 'https://shop.example/')");
    TestSurface other = new TestSurface(surfaceId, "pbs_elsewhere");

    int[] n = {0};
    // The poll (surfaceRefreshInterval, 2 s) brings them even while no look-up budget is left.
    Await.until("the other instance's surface and link work", Duration.ofSeconds(15), () -> {
      // Keep the budget spent the whole time.
      for (int i = 0; i < 50; i++) {
        client.postbackAsync(new TestSurface(junk(), "pbs_x"), signup("k"));
        client.getAsync("/c/" + junk());
      }
      n[0]++;
      return client.postback(other, signup("elsewhere-" + n[0])).status() == 200
          && client.get("/c/" + code).status() == 302;
    });
    assertThat(count("surface", "over_budget") + count("link", "over_budget")).isPositive();
  }
}
