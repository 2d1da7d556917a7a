package io.postback.gateway.admin;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.SharedGateway;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin API of SPEC §7 for surfaces and conversion look-ups. */
class SurfaceAdminTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private static GatewayClient client;

  @BeforeAll
  static void start() {
    client = gateway.client();
  }

  @Test
  void adminApiRequiresTheBearerToken() throws Exception {
    HttpResponse<String> none = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/admin/surfaces"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> wrong = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/admin/surfaces/x"))
            .header("authorization", "Bearer wrong-token").GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(none.body()).getString("error")).isEqualTo("unauthorized");
    assertThat(wrong.statusCode()).isEqualTo(401);
  }

  @Test
  void createdSurfaceShowsItsSecretOnceAndUsesIt() {
    Reply created = client.admin("POST", "/admin/surfaces", new JsonObject().put("name", "Game A"));
    assertThat(created.status()).isEqualTo(201);
    String id = created.json().getString("id");
    String secret = created.json().getString("secret");
    assertThat(id).startsWith("srf_");
    assertThat(secret).startsWith("pbs_").hasSizeGreaterThan(40);

    Reply read = client.admin("GET", "/admin/surfaces/" + id, null);
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.json().getString("name")).isEqualTo("Game A");
    assertThat(read.body()).doesNotContain(secret).doesNotContain("secret\"");

    Reply posted = client.postback(new GatewayClient.TestSurface(id, secret),
        "{\"externalId\":\"a-1\",\"eventType\":\"signup\"}");
    assertThat(posted.status()).as("a new surface verifies at once").isEqualTo(200);
  }

  @Test
  void duplicateSurfaceIdIsAConflict() {
    client.admin("POST", "/admin/surfaces", new JsonObject().put("id", "dup-surface").put("name", "a"));
    Reply again = client.admin("POST", "/admin/surfaces", new JsonObject().put("id", "dup-surface").put("name", "b"));
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.error()).isEqualTo("conflict");
  }

  @Test
  void badAdminInputGetsAClearError() {
    Reply noName = client.admin("POST", "/admin/surfaces", new JsonObject());
    assertThat(noName.status()).isEqualTo(400);
    assertThat(noName.json().getString("field")).isEqualTo("name");

    Reply badId = client.admin("POST", "/admin/surfaces", new JsonObject().put("id", "has space").put("name", "n"));
    assertThat(badId.json().getString("field")).isEqualTo("id");

    Reply badTolerance = client.admin("POST", "/admin/surfaces",
        new JsonObject().put("name", "n").put("timestampToleranceMs", "soon"));
    assertThat(badTolerance.json().getString("field")).isEqualTo("timestampToleranceMs");

    Reply missing = client.admin("GET", "/admin/surfaces/no-such-surface", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.error()).isEqualTo("not_found");

    Reply rotateMissing = client.admin("POST", "/admin/surfaces/no-such-surface/secrets", new JsonObject());
    assertThat(rotateMissing.status()).isEqualTo(404);
  }

  @Test
  void malformedAdminJsonIsA400() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/admin/surfaces"))
            .header("authorization", "Bearer " + io.postback.gateway.support.TestBackends.ADMIN_TOKEN)
            .POST(HttpRequest.BodyPublishers.ofString("{\"name\":")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("malformed_json");
  }

  @Test
  void conversionsCanBeLookedUpByExternalIdAndPaged() {
    GatewayClient.TestSurface surface = client.createSurface();
    for (int i = 0; i < 5; i++) {
      client.postback(surface, "{\"externalId\":\"look-" + i + "\",\"eventType\":\"sale\",\"grossMinor\":" + (100 + i)
          + ",\"currency\":\"EUR\"}");
    }
    Reply one = client.admin("GET", "/admin/conversions?surfaceId=" + surface.id() + "&externalId=look-3", null);
    assertThat(one.json().getJsonArray("items")).hasSize(1);
    assertThat(one.json().getJsonArray("items").getJsonObject(0).getLong("grossMinor")).isEqualTo(103);

    Reply page1 = client.admin("GET", "/admin/conversions?surfaceId=" + surface.id() + "&limit=3", null);
    assertThat(page1.json().getJsonArray("items")).hasSize(3);
    String cursor = page1.json().getString("nextCursor");
    assertThat(cursor).isNotNull();
    Reply page2 = client.admin("GET", "/admin/conversions?surfaceId=" + surface.id() + "&limit=3&cursor=" + cursor, null);
    assertThat(page2.json().getJsonArray("items")).hasSize(2);
    assertThat(page2.json().getString("nextCursor")).isNull();

    Reply noSurface = client.admin("GET", "/admin/conversions", null);
    assertThat(noSurface.status()).isEqualTo(400);
    assertThat(noSurface.json().getString("field")).isEqualTo("surfaceId");
    Reply badLimit = client.admin("GET", "/admin/conversions?surfaceId=x&limit=0", null);
    assertThat(badLimit.json().getString("field")).isEqualTo("limit");
  }

  @Test
  void healthEndpointsAnswer() {
    assertThat(client.get("/health/live").status()).isEqualTo(200);
    Reply ready = client.get("/health/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().getString("postgres")).isEqualTo("up");
    assertThat(ready.json().getString("redis")).isEqualTo("up");
  }

  @Test
  void unknownRouteIsAJson404() {
    Reply r = client.get("/v1/nothing-here");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.error()).isEqualTo("not_found");
  }
}
