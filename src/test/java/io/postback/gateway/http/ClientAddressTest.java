package io.postback.gateway.http;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client address behind load balancers, over real sockets: X-Forwarded-For is believed only from a
 * trusted peer and read from the right; with the PROXY protocol the peer is the header's source.
 */
class ClientAddressTest {
  /** Trusts loopback and 10/8 as proxies. */
  private static RunningGateway behindProxies;
  /** Expects a PROXY protocol header on every connection; trusts only 10/8. */
  private static RunningGateway proxyProtocol;
  private TestSurface surface;

  @BeforeAll
  static void start() {
    behindProxies = RunningGateway.start(Map.of("GATEWAY_TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8"));
    proxyProtocol = RunningGateway.start(Map.of("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8", "GATEWAY_PROXY_PROTOCOL", "true"));
  }

  @AfterAll
  static void stop() {
    behindProxies.close();
    proxyProtocol.close();
  }

  @BeforeEach
  void surfaceAllowingOnlyTheDocumentationNetwork() {
    GatewayClient admin = behindProxies.client();
    surface = admin.createSurface();
    Reply patched = admin.admin("PATCH", "/admin/surfaces/" + surface.id(),
        new JsonObject().put("ipAllowlist", new JsonArray().add("203.0.113.0/24")));
    assertThat(patched.status()).isEqualTo(200);
  }

  private static String signup(String externalId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"signup\"}";
  }

  private Reply postForwardedFor(String externalId, String... forwardedFor) {
    String[] headers = new String[forwardedFor.length * 2];
    for (int i = 0; i < forwardedFor.length; i++) {
      headers[2 * i] = "x-forwarded-for";
      headers[2 * i + 1] = forwardedFor[i];
    }
    return behindProxies.client().signedPost("/v1/conversions", surface, "application/json", signup(externalId), headers);
  }

  /** The surface's newest postback-log entry; empty until the first one is written (after the answer). */
  private JsonObject newestLogEntry() {
    var items = behindProxies.client().admin("GET", "/admin/postback-log?surfaceId=" + surface.id(), null).json()
        .getJsonArray("items");
    return items.isEmpty() ? new JsonObject() : items.getJsonObject(0);
  }

  @Test
  void forwardedForFromATrustedPeerNamesTheClient() {
    Reply r = postForwardedFor("xff-1", "203.0.113.5");
    assertThat(r.status()).isEqualTo(200);
    Await.until("postback logged", Duration.ofSeconds(5), () -> "xff-1".equals(newestLogEntry().getString("externalId")));
    assertThat(newestLogEntry().getString("ip")).isEqualTo("203.0.113.5");
  }

  @Test
  void aPortalLinkMintedBehindATlsProxyIsAnHttpsUrl() {
    Reply minted = behindProxies.client().post("/admin/portal-links", "application/json",
        new JsonObject().put("surfaceId", surface.id()).encode(),
        "authorization", "Bearer " + TestBackends.ADMIN_TOKEN, "x-forwarded-proto", "https");
    assertThat(minted.status()).isEqualTo(201);
    assertThat(minted.json().getString("url")).startsWith("https://127.0.0.1:" + behindProxies.port() + "/portal/#token=ptl_");
  }

  @Test
  void aSpoofedLeftPartOfTheChainIsIgnored() {
    // The client wrote 203.0.113.5; our proxy appended the address it saw, 198.51.100.7: that is the client.
    Reply spoofed = postForwardedFor("xff-2", "203.0.113.5, 198.51.100.7");
    assertThat(spoofed.status()).isEqualTo(403);
    assertThat(spoofed.error()).isEqualTo("ip_not_allowed");
    assertThat(spoofed.json().getString("message")).contains("198.51.100.7");
    // Split over two headers, it is the same chain.
    assertThat(postForwardedFor("xff-3", "203.0.113.5", "198.51.100.7").status()).isEqualTo(403);
    // Hops that are trusted proxies themselves are skipped: the client is the right-most untrusted entry.
    assertThat(postForwardedFor("xff-4", "198.51.100.7, 203.0.113.5, 10.1.2.3, 10.9.9.9").status()).isEqualTo(200);
    // Garbage where an address should be ends the walk at the last trusted hop, which no allowlist names.
    assertThat(postForwardedFor("xff-5", "203.0.113.5, not-an-ip").status()).isEqualTo(403);
  }

  @Test
  void clicksRecordTheForwardedClient() {
    GatewayClient client = behindProxies.client();
    String code = client.createLink(surface, client.createAffiliate("active"), "https://shop.example/", null);
    assertThat(client.get("/c/" + code, "x-forwarded-for", "192.0.2.1, 203.0.113.77").status()).isEqualTo(302);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE link_code = ? AND ip = '203.0.113.77'", code))
        .isEqualTo(1);
  }

  @Test
  void withoutTrustedProxiesTheSocketPeerIsTheClient() {
    try (RunningGateway plain = RunningGateway.start()) {
      Reply r = plain.client().signedPost("/v1/conversions", surface, "application/json", signup("plain-1"),
          "x-forwarded-for", "203.0.113.5");
      assertThat(r.status()).isEqualTo(403);
      assertThat(r.json().getString("message")).contains("127.0.0.1");
    }
  }

  @Test
  void theProxyProtocolHeaderNamesTheClient() throws IOException {
    String reply = rawPostbackWithProxyHeader("PROXY TCP4 203.0.113.9 127.0.0.1 56324 443\r\n", "pp-1", null);
    assertThat(reply).startsWith("HTTP/1.1 200");
    Await.until("postback logged", Duration.ofSeconds(5), () -> "pp-1".equals(newestLogEntry().getString("externalId")));
    assertThat(newestLogEntry().getString("ip")).isEqualTo("203.0.113.9");
  }

  @Test
  void forwardedForBehindTheProxyProtocolCountsOnlyFromATrustedSource() throws IOException {
    // The PROXY header's source is the peer: an untrusted one's X-Forwarded-For is ignored ...
    assertThat(rawPostbackWithProxyHeader("PROXY TCP4 198.51.100.1 127.0.0.1 56324 443\r\n", "pp-2", "203.0.113.5"))
        .startsWith("HTTP/1.1 403");
    // ... a trusted one's is believed.
    assertThat(rawPostbackWithProxyHeader("PROXY TCP4 10.0.0.5 127.0.0.1 56324 443\r\n", "pp-3", "203.0.113.5"))
        .startsWith("HTTP/1.1 200");
  }

  @Test
  void withTheProxyProtocolOnAConnectionWithoutItsHeaderIsNotServed() throws IOException {
    String reply = rawPostbackWithProxyHeader("", "pp-4", null);
    assertThat(reply).doesNotStartWith("HTTP/1.1 200");
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'pp-4'",
        surface.id())).isZero();
  }

  /** A signed postback over a plain socket to the PROXY-protocol gateway; returns what it answered. */
  private String rawPostbackWithProxyHeader(String proxyHeader, String externalId, String forwardedFor) throws IOException {
    String body = signup(externalId);
    String ts = String.valueOf(System.currentTimeMillis());
    String request = proxyHeader
        + "POST /v1/conversions HTTP/1.1\r\n"
        + "host: 127.0.0.1\r\n"
        + "content-type: application/json\r\n"
        + "x-ea-surface: " + surface.id() + "\r\n"
        + "x-ea-timestamp: " + ts + "\r\n"
        + "x-ea-signature: " + GatewayClient.sign(surface.secret(), ts, body) + "\r\n"
        + (forwardedFor == null ? "" : "x-forwarded-for: " + forwardedFor + "\r\n")
        + "content-length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n"
        + "connection: close\r\n\r\n"
        + body;
    try (Socket socket = new Socket("127.0.0.1", proxyProtocol.port())) {
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      int n;
      try {
        while ((n = in.read(buf)) > 0) {
          answer.write(buf, 0, n);
        }
      } catch (java.net.SocketException e) {
        // reset by the server: whatever arrived is the answer
      }
      return answer.toString(StandardCharsets.UTF_8);
    }
  }
}
