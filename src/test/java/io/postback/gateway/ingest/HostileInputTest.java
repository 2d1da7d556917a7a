package io.postback.gateway.ingest;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 8 §2, first line of defence: every value of every inbound form is checked before it joins a
 * batch. NUL (escaped or raw), lone surrogates (high and low), invalid UTF-8 (a stray byte, an overlong
 * NUL, an encoded surrogate) in each field of each form answer 400 naming the field, never a 500, and
 * a burst of good and bad postbacks answers each on its own. A WebSocket upgrade offer smuggled onto the
 * signed path is answered as plain HTTP: the gateway serves no WebSocket.
 */
class HostileInputTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  /** Bad contents of a JSON string, as the bytes between its quotes. */
  static final Map<String, byte[]> JSON_BAD = new LinkedHashMap<>();
  /** Bad values of a query parameter, percent-encoded. */
  static final Map<String, String> QUERY_BAD = new LinkedHashMap<>();
  /** Bad bytes of a header value. */
  static final Map<String, byte[]> HEADER_BAD = new LinkedHashMap<>();

  static {
    JSON_BAD.put("escaped NUL", ascii("a\\u0000b"));
    JSON_BAD.put("raw NUL", new byte[] {'a', 0, 'b'});
    JSON_BAD.put("lone high surrogate", ascii("a\\ud800b"));
    JSON_BAD.put("lone low surrogate", ascii("\\udc00"));
    JSON_BAD.put("reversed pair", ascii("\\ude00\\ud83d"));
    JSON_BAD.put("stray byte", new byte[] {'a', (byte) 0xFF, 'b'});
    JSON_BAD.put("overlong NUL", new byte[] {(byte) 0xC0, (byte) 0x80});
    JSON_BAD.put("encoded surrogate", new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
    QUERY_BAD.put("NUL", "a%00b");
    QUERY_BAD.put("stray byte", "a%FFb");
    QUERY_BAD.put("overlong NUL", "%C0%80");
    QUERY_BAD.put("encoded surrogate", "%ED%A0%80");
    QUERY_BAD.put("truncated sequence", "%E2%82");
    HEADER_BAD.put("stray byte", new byte[] {'k', (byte) 0xFF});
    HEADER_BAD.put("overlong", new byte[] {(byte) 0xC0, (byte) 0xAF});
    HEADER_BAD.put("encoded surrogate", new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
    HEADER_BAD.put("truncated sequence", new byte[] {'k', (byte) 0xE2, (byte) 0x82});
  }

  private GatewayClient client;
  private TestSurface surface;
  private String token;

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
    token = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token", null).json().getString("postbackToken");
  }

  long conversions() {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id());
  }

  /** A valid JSON conversion whose {@code field} holds {@code bad} (metadata: as a value, or as a key). */
  static byte[] jsonWith(String field, byte[] bad, String externalId) {
    Map<String, byte[]> fields = new LinkedHashMap<>();
    fields.put("externalId", ascii("\"" + externalId + "\""));
    fields.put("eventType", ascii("\"sale\""));
    fields.put("grossMinor", ascii("100"));
    fields.put("currency", ascii("\"USD\""));
    if (field.equals("refundOf")) {
      fields.put("eventType", ascii("\"refund\""));
    }
    if (field.equals("metadata")) {
      fields.put("metadata", concat(ascii("{\"note\":\""), bad, ascii("\"}")));
    } else if (field.equals("metadata key")) {
      fields.put("metadata", concat(ascii("{\"a\":{\""), bad, ascii("\":1}}")));
    } else if (field.equals("body")) {
      fields.remove("externalId");
    } else {
      fields.put(field, concat(ascii("\""), bad, ascii("\"")));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ascii("{"));
    boolean first = true;
    for (Map.Entry<String, byte[]> e : fields.entrySet()) {
      out.writeBytes(ascii((first ? "" : ",") + "\"" + e.getKey() + "\":"));
      out.writeBytes(e.getValue());
      first = false;
    }
    out.writeBytes(ascii("}"));
    return out.toByteArray();
  }

  static final List<String> JSON_FIELDS = List.of("externalId", "eventType", "currency", "occurredAt", "clickId", "promoCode",
      "refundOf", "metadata", "metadata key");

  static String fieldNamed(String field) {
    return field.startsWith("metadata") ? "metadata" : field;
  }

  @Test
  void everyFieldOfTheJsonFormRefusesUnstorableText() {
    int n = 0;
    for (String field : JSON_FIELDS) {
      for (Map.Entry<String, byte[]> bad : JSON_BAD.entrySet()) {
        Reply r = client.signedPostAsync("/v1/conversions", surface, "application/json", jsonWith(field, bad.getValue(), "j-" + n++))
            .join();
        assertThat(r.status()).as("%s with %s: %s", field, bad.getKey(), r.body()).isEqualTo(400);
        assertThat(r.json().getString("error")).as("%s with %s", field, bad.getKey()).isEqualTo("invalid_field");
        assertThat(r.json().getString("field")).as("%s with %s", field, bad.getKey()).isEqualTo(fieldNamed(field));
      }
    }
    assertThat(conversions()).isZero();
  }

  @Test
  void everyFieldOfABatchRefusesUnstorableTextAloneAndItsNeighboursAreStored() {
    List<String> expected = new ArrayList<>();
    ByteArrayOutputStream ndjson = new ByteArrayOutputStream();
    int n = 0;
    for (String field : JSON_FIELDS) {
      for (byte[] bad : JSON_BAD.values()) {
        ndjson.writeBytes(jsonWith(field, bad, "bb-" + n++));
        ndjson.writeBytes(ascii("\n{\"externalId\":\"good-" + n++ + "\",\"eventType\":\"signup\"}\n"));
        expected.add(fieldNamed(field));
        expected.add(null);
      }
    }
    Reply r = client.signedPostAsync("/v1/conversions/batch", surface, "application/x-ndjson", ndjson.toByteArray()).join();

    assertThat(r.status()).isEqualTo(200);
    JsonArray items = r.json().getJsonArray("items");
    assertThat(items).hasSize(expected.size());
    for (int i = 0; i < expected.size(); i++) {
      JsonObject item = items.getJsonObject(i);
      if (expected.get(i) == null) {
        assertThat(item.getBoolean("duplicate")).as(item.encode()).isFalse();
      } else {
        assertThat(item.getString("field")).as(item.encode()).isEqualTo(expected.get(i));
      }
    }
    assertThat(conversions()).isEqualTo(expected.size() / 2);
  }

  @Test
  void everyFieldOfATrackCallRefusesUnstorableText() {
    int n = 0;
    for (String field : List.of("currency", "occurredAt", "clickId", "promoCode", "metadata", "metadata key")) {
      for (Map.Entry<String, byte[]> bad : JSON_BAD.entrySet()) {
        byte[] body = jsonWith(field, bad.getValue(), "unused");
        Reply r = track("sale", ascii("t-" + n++), body);
        assertThat(r.status()).as("%s with %s: %s", field, bad.getKey(), r.body()).isEqualTo(400);
        assertThat(r.json().getString("field")).as("%s with %s", field, bad.getKey()).isEqualTo(fieldNamed(field));
      }
    }
    for (Map.Entry<String, byte[]> bad : HEADER_BAD.entrySet()) {
      Reply r = track("signup", bad.getValue(), new byte[0]);
      assertThat(r.status()).as("Idempotency-Key with %s: %s", bad.getKey(), r.body()).isEqualTo(400);
      assertThat(r.json().getString("field")).isEqualTo("Idempotency-Key");
    }
    for (String eventType : List.of("sa%00le", "%ED%A0%80", "sale%FF", "%C0%80")) {
      Reply r = track(eventType, ascii("t-path-" + n++), new byte[0]);
      assertThat(r.status()).as("event type %s: %s", eventType, r.body()).isEqualTo(400);
      assertThat(r.json().getString("field")).isEqualTo("eventType");
    }
    assertThat(conversions()).isZero();
  }

  /** A correctly signed track call over a plain socket: the path as sent, the key as bytes. */
  Reply track(String rawEventType, byte[] key, byte[] body) {
    String ts = String.valueOf(System.currentTimeMillis());
    String decoded = io.vertx.core.internal.net.RFC3986.decodeURIComponent(rawEventType, false);
    String sig = GatewayClient.sign(surface.secret(), ts, concat(("POST /v1/track/" + decoded + "\n").getBytes(StandardCharsets.UTF_8),
        key, ascii("\n"), body));
    byte[] head = concat(ascii("POST /v1/track/" + rawEventType + " HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
        + "x-ea-surface: " + surface.id() + "\r\nx-ea-timestamp: " + ts + "\r\nx-ea-signature: " + sig + "\r\nidempotency-key: "),
        key, ascii("\r\n"));
    return client.rawRequest(head, body);
  }

  @Test
  void everyParameterOfTheGetFormRefusesUnstorableText() {
    int n = 0;
    for (String name : ClassicPostbackRoutes.SIGNED_NAMES) {
      if (name.equals("surface")) {
        continue;
      }
      for (Map.Entry<String, String> bad : QUERY_BAD.entrySet()) {
        String query = "surface=" + surface.id() + "&token=" + token + (name.equals("txid") ? "" : "&txid=g-" + n++)
            + "&" + name + "=" + bad.getValue();
        Reply r = client.get("/v1/postback?" + query);
        assertThat(r.status()).as("%s with %s: %s", name, bad.getKey(), r.body()).isEqualTo(400);
        assertThat(r.json().getString("field")).as("%s with %s", name, bad.getKey()).isEqualTo(name);
      }
    }
    assertThat(conversions()).isZero();
  }

  @Test
  void hostileSurfaceIdsAndTimestampsAreRefusedNeverA500() {
    for (String surfaceQuery : List.of("%00", "a%FF", "%ED%A0%80", "x".repeat(65), "a%20b")) {
      Reply r = client.get("/v1/postback?surface=" + surfaceQuery + "&token=x&txid=s-1");
      assertThat(r.status()).as(surfaceQuery).isEqualTo(401);
      assertThat(r.json().getString("error")).isEqualTo("unknown_surface");
    }
    for (byte[] bad : HEADER_BAD.values()) {
      byte[] head = concat(ascii("POST /v1/conversions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\nx-ea-surface: "), bad,
          ascii("\r\nx-ea-timestamp: 1\r\nx-ea-signature: ab\r\n"));
      Reply r = client.rawRequest(head, ascii("{}"));
      assertThat(r.status()).isEqualTo(401);
      assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("unknown_surface");
    }
    for (String ts : List.of(String.valueOf(Long.MIN_VALUE), String.valueOf(Long.MIN_VALUE + System.currentTimeMillis()),
        String.valueOf(Long.MAX_VALUE), "+1", "1e12", " ", "١٢٣")) {
      Reply r = client.rawRequest(("POST /v1/conversions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\nx-ea-surface: "
          + surface.id() + "\r\nx-ea-timestamp: " + ts + "\r\nx-ea-signature: " + "ab".repeat(32) + "\r\n")
          .getBytes(StandardCharsets.UTF_8), ascii("{}"));
      assertThat(r.status()).as(ts).isEqualTo(401);
      assertThat(new JsonObject(r.body()).getString("error")).as(ts).isIn("invalid_timestamp", "missing_timestamp");
    }
  }

  @Test
  void aBodyInUtf16OrUtf32IsA400NotA500() {
    String json = "{\"externalId\":\"w-1\",\"eventType\":\"signup\",\"metadata\":{\"a\":1}}";
    for (java.nio.charset.Charset charset : List.of(StandardCharsets.UTF_16LE, StandardCharsets.UTF_16, java.nio.charset.Charset.forName("UTF-32"))) {
      Reply single = client.signedPostAsync("/v1/conversions", surface, "application/json", json.getBytes(charset)).join();
      assertThat(single.status()).as(charset + ": " + single.body()).isEqualTo(400);
      assertThat(single.json().getString("error")).isEqualTo("malformed_json");
      Reply batch = client.signedPostAsync("/v1/conversions/batch", surface, "application/json",
          ("[" + json + "]").getBytes(charset)).join();
      assertThat(batch.status()).as(charset + ": " + batch.body()).isEqualTo(400);
    }
    assertThat(conversions()).isZero();
  }

  @Test
  void aBatchItemWithDuplicateKeysFailsAlone() {
    Reply r = client.signedPost("/v1/conversions/batch", surface, "application/json",
        "[{\"externalId\":\"d-1\",\"externalId\":\"d-2\",\"eventType\":\"signup\"},{\"externalId\":\"d-3\",\"eventType\":\"signup\"}]");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonArray("items").getJsonObject(0).getString("error")).isEqualTo("malformed_json");
    assertThat(r.json().getJsonArray("items").getJsonObject(1).getBoolean("duplicate")).isFalse();
    assertThat(conversions()).isEqualTo(1);
  }

  @Test
  void aConcurrentBurstOfGoodAndBadPostbacksAnswersEachOnItsOwn() {
    List<CompletableFuture<Reply>> good = new ArrayList<>();
    List<CompletableFuture<Reply>> bad = new ArrayList<>();
    List<String> badFields = new ArrayList<>();
    List<String> badKinds = new ArrayList<>(JSON_BAD.keySet());
    for (int i = 0; i < 120; i++) {
      if (i % 2 == 0) {
        good.add(client.signedPostAsync("/v1/conversions", surface, "application/json",
            ascii("{\"externalId\":\"ok-" + i + "\",\"eventType\":\"sale\",\"grossMinor\":100,\"currency\":\"USD\","
                + "\"metadata\":{\"n\":" + i + "}}")));
        good.add(client.getAsync("/v1/postback?surface=" + surface.id() + "&token=" + token + "&txid=okget-" + i));
      } else {
        String field = JSON_FIELDS.get(i / 2 % JSON_FIELDS.size());
        byte[] value = JSON_BAD.get(badKinds.get(i / 2 % badKinds.size()));
        bad.add(client.signedPostAsync("/v1/conversions", surface, "application/json", jsonWith(field, value, "bad-" + i)));
        badFields.add(fieldNamed(field));
        String name = ClassicPostbackRoutes.SIGNED_NAMES.get(i % (ClassicPostbackRoutes.SIGNED_NAMES.size() - 1));
        bad.add(client.getAsync("/v1/postback?surface=" + surface.id() + "&token=" + token
            + (name.equals("txid") ? "" : "&txid=badget-" + i) + "&" + name + "=%ED%A0%80"));
        badFields.add(name);
      }
    }
    for (CompletableFuture<Reply> f : good) {
      Reply r = f.join();
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.json().getBoolean("duplicate")).isFalse();
    }
    for (int i = 0; i < bad.size(); i++) {
      Reply r = bad.get(i).join();
      assertThat(r.status()).as(r.body()).isEqualTo(400);
      assertThat(r.json().getString("field")).isEqualTo(badFields.get(i));
    }
    assertThat(conversions()).isEqualTo(good.size());

    // The postback log holds the bad ones too, cleaned, and still reads (a loaded Redis may answer late: poll).
    Await.until("the postback log reads", Duration.ofSeconds(15), () -> {
      Reply log = client.admin("GET", "/admin/postback-log?surfaceId=" + surface.id() + "&limit=200", null);
      return log.status() == 200 && log.json().getJsonArray("items").stream()
          .anyMatch(e -> "invalid_field".equals(((JsonObject) e).getString("error")));
    });
  }

  /**
   * The gateway serves no WebSocket (HttpVerticle offers no WebSocket compression either): a client that offers
   * an upgrade, with a deflate extension, on the signed path or a plain route gets ordinary HTTP answers on the
   * same connection, never a 101, and the postback is recorded once: its replay there is a duplicate.
   */
  @Test
  void aWebSocketUpgradeOfferIsAnsweredAsPlainHttpAndRecordsThePostbackOnce() throws IOException {
    String upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit-deflate-frame\r\n";
    String body = "{\"externalId\":\"ws-1\",\"eventType\":\"signup\"}";
    String ts = String.valueOf(System.currentTimeMillis());
    String postback = "POST /v1/conversions HTTP/1.1\r\nHost: gw\r\n" + upgrade
        + "content-type: application/json\r\nx-ea-surface: " + surface.id() + "\r\nx-ea-timestamp: " + ts
        + "\r\nx-ea-signature: " + GatewayClient.sign(surface.secret(), ts, body)
        + "\r\ncontent-length: " + body.length() + "\r\n\r\n" + body;
    String health = "GET /health/live HTTP/1.1\r\nHost: gw\r\n" + upgrade + "\r\n";
    try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
      socket.setSoTimeout(30_000);
      InputStream in = socket.getInputStream();
      String[] answers = new String[3];
      String[] requests = {postback, health, postback};
      for (int i = 0; i < requests.length; i++) {
        socket.getOutputStream().write(ascii(requests[i]));
        answers[i] = readResponse(in);
        assertThat(answers[i]).as(answers[i]).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("sec-websocket");
      }
      assertThat(new JsonObject(bodyOf(answers[0])).getBoolean("duplicate")).isFalse();
      assertThat(new JsonObject(bodyOf(answers[1])).getString("status")).isEqualTo("up");
      assertThat(new JsonObject(bodyOf(answers[2])).getBoolean("duplicate")).isTrue();
    }
    assertThat(conversions()).isEqualTo(1);
  }

  /** One HTTP/1.1 response with a content-length body, head and body, read from a kept-alive connection. */
  private static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after: " + head.toString(StandardCharsets.ISO_8859_1));
      }
      head.write(b);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    return text + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  private static String bodyOf(String response) {
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
