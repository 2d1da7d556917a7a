package io.postback.gateway.ingest;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPEC §3.2: a track call's signature covers the method, the path (so the event type) and the
 * Idempotency-Key as well as the body, so a captured call replayed with another key or path is refused.
 */
class TrackSignatureTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
  }

  long conversions() {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id());
  }

  /** A track call with whatever path, key and signature the test wants, over a plain socket. */
  Reply send(String path, byte[] key, String ts, String signature, String body) {
    byte[] head = ("POST " + path + " HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\nx-ea-surface: " + surface.id()
        + "\r\nx-ea-timestamp: " + ts + "\r\nx-ea-signature: " + signature + "\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] keyHeader = concat("idempotency-key: ".getBytes(StandardCharsets.US_ASCII), key, "\r\n".getBytes(StandardCharsets.US_ASCII));
    return client.rawRequest(concat(head, keyHeader), body.getBytes(StandardCharsets.UTF_8));
  }

  static String signature(String secret, String ts, String eventType, byte[] key, String body) {
    return GatewayClient.sign(secret, ts, concat(("POST /v1/track/" + eventType + "\n").getBytes(StandardCharsets.UTF_8), key,
        "\n".getBytes(StandardCharsets.UTF_8), body.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aCapturedCallReplayedWithAnotherKeyOrPathIsRefused() {
    String body = "{\"grossMinor\":5000,\"currency\":\"USD\"}";
    String ts = String.valueOf(System.currentTimeMillis());
    byte[] key = ascii("order-1");
    String sig = signature(surface.secret(), ts, "purchase", key, body);

    assertThat(send("/v1/track/purchase", key, ts, sig, body).status()).isEqualTo(200);
    for (String otherKey : new String[] {"order-2", "ORDER-1", "order-1x", "order-"}) {
      Reply replay = send("/v1/track/purchase", ascii(otherKey), ts, sig, body);
      assertThat(replay.status()).as(otherKey).isEqualTo(401);
      assertThat(replay.json().getString("error")).isEqualTo("bad_signature");
    }
    for (String otherPath : new String[] {"/v1/track/sale", "/v1/track/deposit", "/v1/track/Purchase", "/v1/track/refund"}) {
      Reply replay = send(otherPath, key, ts, sig, body);
      assertThat(replay.status()).as(otherPath).isIn(401, 404);
    }
    assertThat(conversions()).isEqualTo(1);
  }

  @Test
  void theOldSignatureOverTimestampAndBodyAloneIsRefused() {
    String body = "{\"grossMinor\":5000,\"currency\":\"USD\"}";
    String ts = String.valueOf(System.currentTimeMillis());
    Reply r = send("/v1/track/sale", ascii("order-3"), ts, GatewayClient.sign(surface.secret(), ts, body), body);
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.json().getString("error")).isEqualTo("bad_signature");
    assertThat(r.json().getString("message")).contains("POST /v1/track/<eventType>");
    assertThat(conversions()).isZero();
  }

  @Test
  void thePathIsSignedAsItsDecodedEventType() {
    String ts = String.valueOf(System.currentTimeMillis());
    byte[] key = ascii("user-7");
    Reply r = send("/v1/track/sign%75p", key, ts, signature(surface.secret(), ts, "signup", key, ""), "");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'user-7' "
        + "AND event_type = 'signup'", surface.id())).isEqualTo(1);
  }

  @Test
  void aUtf8KeyIsSignedAsItsBytesAndStoredAsItsText() {
    byte[] key = "commande-été".getBytes(StandardCharsets.UTF_8);
    String ts = String.valueOf(System.currentTimeMillis());
    Reply r = send("/v1/track/signup", key, ts, signature(surface.secret(), ts, "signup", key, ""), "");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = 'commande-été'",
        surface.id())).isEqualTo(1);
  }

  @Test
  void twoIdempotencyKeysAreRefused() {
    String ts = String.valueOf(System.currentTimeMillis());
    byte[] key = ascii("k-1");
    byte[] twoKeys = concat(key, ascii("\r\nidempotency-key: k-2"));
    Reply r = send("/v1/track/signup", twoKeys, ts, signature(surface.secret(), ts, "signup", key, ""), "");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("field")).isEqualTo("Idempotency-Key");
    assertThat(conversions()).isZero();
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
