package io.postback.gateway.console;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.SharedGateway;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The console's pages come from the jar with a strict policy; its overview counts this instance's postbacks. */
class ConsoleRoutesTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  @Test
  void pagesAndTheChartLibraryAreServedFromTheJarUnderAStrictPolicy() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (String path : new String[] {"/console/", "/console/app.js", "/console/lib/uplot/uPlot.esm.js", "/portal/"}) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(r.headers().firstValue("content-security-policy")).get().asString()
          .contains("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'").doesNotContain("unsafe");
      assertThat(r.headers().firstValue("x-frame-options")).contains("DENY");
      assertThat(r.headers().firstValue("x-content-type-options")).contains("nosniff");
    }
    assertThat(gateway.client().get("/console").status()).isEqualTo(302);
  }

  @Test
  void aConversionIsFoundByItsIdAsByItsExternalId() {
    GatewayClient client = gateway.client();
    GatewayClient.TestSurface surface = client.createSurface();
    String id = client.postback(surface, "{\"externalId\":\"by-id-1\",\"eventType\":\"sale\",\"grossMinor\":100,"
        + "\"currency\":\"USD\"}").json().getString("conversionId");
    JsonObject found = client.admin("GET", "/admin/conversions?id=" + id, null).json();
    assertThat(found.getJsonArray("items")).hasSize(1);
    assertThat(found.getJsonArray("items").getJsonObject(0).getString("externalId")).isEqualTo("by-id-1");
    assertThat(found.getString("nextCursor")).isNull();
    assertThat(client.admin("GET", "/admin/conversions?id=cv_none", null).json().getJsonArray("items")).isEmpty();
    assertThat(client.admin("GET", "/admin/conversions", null).error()).isEqualTo("invalid_field");
  }

  @Test
  void theOverviewCountsThisInstancesPostbacksAtOnce() {
    GatewayClient client = gateway.client();
    GatewayClient.TestSurface surface = client.createSurface();
    JsonObject before = client.admin("GET", "/admin/overview", null).json();
    assertThat(before.getString("scope")).isEqualTo("this instance");
    client.postback(surface, "{\"externalId\":\"overview-1\",\"eventType\":\"sale\",\"grossMinor\":100,\"currency\":\"USD\"}");
    GatewayClient.TestSurface wrong = new GatewayClient.TestSurface(surface.id(), "pbs_wrong");
    client.postback(wrong, "{\"externalId\":\"overview-2\",\"eventType\":\"sale\"}");

    JsonObject after = client.admin("GET", "/admin/overview", null).json();
    assertThat(after.getJsonObject("lastHour").getLong("accepted"))
        .isEqualTo(before.getJsonObject("lastHour").getLong("accepted") + 1);
    assertThat(after.getJsonObject("lastHour").getJsonObject("rejectionsByReason").getLong("bad_signature"))
        .isEqualTo(before.getJsonObject("lastHour").getJsonObject("rejectionsByReason").getLong("bad_signature", 0L) + 1);
    assertThat(after.getJsonObject("dependencies").getBoolean("postgres")).isTrue();
    assertThat(after.getJsonObject("series").getJsonArray("t")).isNotEmpty();
    assertThat(client.get("/admin/overview").status()).isEqualTo(401);
  }
}
