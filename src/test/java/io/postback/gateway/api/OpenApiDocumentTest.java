package io.postback.gateway.api;

import io.postback.gateway.http.ApiContract;
import io.postback.gateway.support.NodeTools;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document as integrators meet it: served at /openapi.json, clean under a real OpenAPI 3.1
 * linter, browsable at /docs/api, and the admin API it describes validates requests the way it says.
 */
class OpenApiDocumentTest {
  private static final Pattern ASSET = Pattern.compile("(?:src|href)=\"([^\"]+)\"");

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void theDocumentIsServedAtOpenapiJson() throws Exception {
    HttpResponse<String> r = get("/openapi.json");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    JsonObject served = new JsonObject(r.body());
    assertThat(served).isEqualTo(ApiContract.load().document());
    assertThat(served.getString("openapi")).startsWith("3.1");
  }

  @Test
  void theDocumentPassesTheRedoclyLinterWithoutErrors() {
    Path root = NodeTools.DIR.getParent().getParent();
    NodeTools.require();
    NodeTools.Result r = NodeTools.run(root, 300, NodeTools.DIR.resolve("node_modules/.bin/redocly").toString(),
        "lint", "--config", root.resolve("redocly.yaml").toString(), "--format", "stylish");
    // redocly exits non-zero on any error (warnings are listed but pass).
    assertThat(r.exitCode()).as(r.output()).isZero();
  }

  @Test
  void theApiBrowserRendersTheDocumentWithoutInlineScript() throws Exception {
    HttpResponse<String> page = get("/docs/api");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-security-policy")).hasValueSatisfying(csp ->
        assertThat(csp).contains("script-src 'self'").doesNotContain("unsafe-eval"));
    // Every script is a file; the browser would refuse an inline one under this policy.
    assertThat(page.body()).doesNotContainPattern("<script(?![^>]*\\bsrc=)[^>]*>");

    List<String> assets = new ArrayList<>();
    Matcher m = ASSET.matcher(page.body());
    while (m.find()) {
      assets.add(m.group(1));
    }
    assertThat(assets).contains("/docs/api/init.js", "/docs/api/swagger-ui/swagger-ui-bundle.js");
    for (String asset : assets) {
      assertThat(get(asset).statusCode()).as(asset).isEqualTo(200);
    }
    assertThat(get("/docs/api/init.js").body()).contains("'/openapi.json'");
  }

  @Test
  void aContractViolationNamesTheFieldInTheUsualErrorShape() {
    var client = gateway.client();
    var wrongType = client.admin("POST", "/admin/payouts",
        new JsonObject().put("affiliateId", "a").put("amountMinor", "ten").put("currency", "USD"));
    assertThat(wrongType.status()).isEqualTo(400);
    assertThat(wrongType.json().fieldNames()).containsExactlyInAnyOrder("error", "message", "field");
    assertThat(wrongType.error()).isEqualTo("invalid_field");
    assertThat(wrongType.json().getString("field")).isEqualTo("amountMinor");

    var outOfRange = client.admin("GET", "/admin/surfaces?limit=501", null);
    assertThat(outOfRange.status()).isEqualTo(400);
    assertThat(outOfRange.json().getString("field")).isEqualTo("limit");

    var badEnum = client.admin("PATCH", "/admin/payouts/po_x", new JsonObject().put("status", "paid"));
    assertThat(badEnum.json().getString("field")).isEqualTo("status");

    var missingQuery = client.admin("GET", "/admin/postback-log", null);
    assertThat(missingQuery.status()).isEqualTo(400);
    assertThat(missingQuery.json().getString("field")).isEqualTo("surfaceId");
  }

  @Test
  void theAdminTokenIsCheckedBeforeTheContract() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/admin/payouts"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"amountMinor\":\"ten\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("unauthorized");
  }

  @Test
  void anAdminBodyWithoutItsMediaTypeIsStillReadAsJson() throws Exception {
    // curl -d sends application/x-www-form-urlencoded: the admin API has always read such a body as JSON.
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/admin/affiliates"))
        .header("authorization", "Bearer " + TestBackends.ADMIN_TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"curl user\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + gateway.port() + path);
  }
}
