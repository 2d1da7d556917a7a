package io.postback.gateway.support;

import io.postback.gateway.ingest.SignatureVerifier;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** Talks to a gateway over a real socket, the way a merchant's server or an admin would. */
public final class GatewayClient {
  private static final AtomicInteger SURFACES = new AtomicInteger();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final Duration timeout;

  public GatewayClient(int port) {
    this(port, Duration.ofSeconds(30));
  }

  /** A client whose requests give up after {@code timeout} (e.g. on a server that is going away). */
  public GatewayClient(int port, Duration timeout) {
    this.base = "http://127.0.0.1:" + port;
    this.timeout = timeout;
  }

  /** A surface created through the admin API; each test gets its own, so tests do not see each other's data. */
  public record TestSurface(String id, String secret) {
  }

  public TestSurface createSurface() {
    String id = "t" + ProcessHandle.current().pid() + "_" + System.nanoTime() + "_" + SURFACES.incrementAndGet();
    Reply r = admin("POST", "/admin/surfaces", new JsonObject().put("id", id).put("name", "test surface"));
    if (r.status() != 201) {
      throw new IllegalStateException("surface creation failed: " + r);
    }
    return new TestSurface(id, r.json().getString("secret"));
  }

  /** An affiliate with the given status, created through the admin API. */
  public String createAffiliate(String status) {
    Reply r = admin("POST", "/admin/affiliates", new JsonObject().put("name", "test affiliate").put("status", status));
    if (r.status() != 201) {
      throw new IllegalStateException("affiliate creation failed: " + r);
    }
    return r.json().getString("id");
  }

  /** A tracking link (optionally with a promo code); returns its code. */
  public String createLink(TestSurface surface, String affiliateId, String destination, String promoCode) {
    JsonObject body = new JsonObject().put("surfaceId", surface.id()).put("affiliateId", affiliateId)
        .put("destinationUrl", destination);
    if (promoCode != null) {
      body.put("promoCode", promoCode);
    }
    Reply r = admin("POST", "/admin/links", body);
    if (r.status() != 201) {
      throw new IllegalStateException("link creation failed: " + r);
    }
    return r.json().getString("code");
  }

  /** A commission rule: flat (flatMinor, USD) when bps is null, else percentage; affiliateId null = surface default. */
  public void createRule(TestSurface surface, String eventType, Long flatMinor, Integer bps, String affiliateId) {
    JsonObject body = new JsonObject().put("surfaceId", surface.id()).put("eventType", eventType);
    if (flatMinor != null) {
      body.put("flatMinor", flatMinor).put("currency", "USD");
    } else {
      body.put("percentBps", bps);
    }
    if (affiliateId != null) {
      body.put("affiliateId", affiliateId);
    }
    Reply r = admin("POST", "/admin/commission-rules", body);
    if (r.status() != 201) {
      throw new IllegalStateException("rule creation failed: " + r);
    }
  }

  /** Visits a tracking link; returns the click id from the redirect (fails if there is none). */
  public String click(String code) {
    Reply r = get("/c/" + code);
    if (r.status() != 302 || r.location() == null || !r.location().contains("clickId=")) {
      throw new IllegalStateException("click did not redirect with a click id: " + r);
    }
    String id = r.location().substring(r.location().indexOf("clickId=") + 8);
    int end = id.indexOf('&') >= 0 ? id.indexOf('&') : id.indexOf('#');
    return end >= 0 ? id.substring(0, end) : id;
  }

  public Reply admin(String method, String path, JsonObject body) {
    return withToken(TestBackends.ADMIN_TOKEN, method, path, body);
  }

  /** A JSON request with {@code Authorization: Bearer <token>}, e.g. a portal link's token. */
  public Reply withToken(String token, String method, String path, JsonObject body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .header("authorization", "Bearer " + token)
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    return send(b.build());
  }

  public Reply get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET().build());
  }

  public CompletableFuture<Reply> getAsync(String path) {
    return sendAsync(HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).GET().build());
  }

  /** A GET with extra headers given as name, value pairs. */
  public Reply get(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b.build());
  }

  /** An unsigned POST (the body signs itself, e.g. a payment provider's webhook), headers as name, value pairs. */
  public Reply post(String path, String contentType, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .header("content-type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(body)));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b.build());
  }

  /** A correctly signed POST of {@code body} to any signed route, with extra headers as name, value pairs. */
  public Reply signedPost(String path, TestSurface surface, String contentType, String body, String... headers) {
    return join(signedPostAsync(path, surface, contentType, bytes(body), headers));
  }

  /** A correctly signed POST of any bytes (invalid UTF-8 included). */
  public CompletableFuture<Reply> signedPostAsync(String path, TestSurface surface, String contentType, byte[] body,
                                                  String... headers) {
    String ts = String.valueOf(System.currentTimeMillis());
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(30))
        .header("content-type", contentType)
        .header("x-ea-surface", surface.id())
        .header("x-ea-timestamp", ts)
        .header("x-ea-signature", SignatureVerifier.signHex(surface.secret(), ts, body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return sendAsync(b.build());
  }

  /**
   * A correctly signed track call (SPEC §3.2): HMAC over "<ts>.POST /v1/track/<eventType>\n<key>\n<body>",
   * written out here from the documented form rather than with the gateway's own code.
   */
  public Reply track(TestSurface surface, String eventType, String idempotencyKey, String body) {
    String ts = String.valueOf(System.currentTimeMillis());
    String signed = "POST /v1/track/" + eventType + "\n" + (idempotencyKey == null ? "" : idempotencyKey) + "\n" + body;
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/v1/track/" + eventType))
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("x-ea-surface", surface.id())
        .header("x-ea-timestamp", ts)
        .header("x-ea-signature", sign(surface.secret(), ts, signed))
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(body)));
    if (idempotencyKey != null) {
      b.header("idempotency-key", idempotencyKey);
    }
    return send(b.build());
  }

  /**
   * The query of a GET postback signed with ts and sig over the documented canonical form: every
   * parameter the gateway reads, RFC 3986-encoded, sorted, joined with '&' (see docs/attribution.md).
   * {@code params} are name, value pairs sent in this order; {@code unsigned} names are sent but not
   * signed (trackers' own parameters). Written from the documentation, not with the gateway's code.
   */
  public static String signedQuery(String secret, String ts, List<String> signedNames, String... params) {
    List<String> canonical = new ArrayList<>();
    StringBuilder query = new StringBuilder();
    for (int i = 0; i < params.length; i += 2) {
      if (signedNames.contains(params[i].toLowerCase(Locale.ROOT))) {
        canonical.add(rfc3986(params[i].toLowerCase(Locale.ROOT)) + "=" + rfc3986(params[i + 1]));
      }
      query.append(query.length() == 0 ? "" : "&").append(rfc3986(params[i])).append('=').append(rfc3986(params[i + 1]));
    }
    Collections.sort(canonical);
    String sig = sign(secret, ts, String.join("&", canonical));
    return query + "&ts=" + ts + "&sig=" + sig;
  }

  /** RFC 3986 percent-encoding (UTF-8; A-Z a-z 0-9 - . _ ~ kept), from the JDK's form encoder. */
  public static String rfc3986(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("*", "%2A").replace("%7E", "~");
  }

  /** A correctly signed postback, timestamped now. */
  public Reply postback(TestSurface surface, String body) {
    return join(postbackAsync(surface, body));
  }

  public CompletableFuture<Reply> postbackAsync(TestSurface surface, String body) {
    String ts = String.valueOf(System.currentTimeMillis());
    return sendAsync(signed(surface.id(), ts, SignatureVerifier.signHex(surface.secret(), ts, bytes(body)), body).build());
  }

  /** A postback with whatever headers the test wants (null leaves a header out). */
  public Reply raw(String path, String surfaceId, String timestamp, String signature, String contentType, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(body)));
    if (surfaceId != null) {
      b.header("x-ea-surface", surfaceId);
    }
    if (timestamp != null) {
      b.header("x-ea-timestamp", timestamp);
    }
    if (signature != null) {
      b.header("x-ea-signature", signature);
    }
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    return send(b.build());
  }

  public static String sign(String secret, String timestamp, String body) {
    return SignatureVerifier.signHex(secret, timestamp, bytes(body));
  }

  public static String sign(String secret, String timestamp, byte[] content) {
    return SignatureVerifier.signHex(secret, timestamp, content);
  }

  /**
   * Sends {@code head} (request line and headers, as bytes: any byte a hostile client may send) and
   * {@code body} over a plain socket, with content-length and connection: close added.
   */
  public Reply rawRequest(byte[] head, byte[] body) {
    URI uri = URI.create(base);
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout((int) timeout.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(head);
      out.write(("content-length: " + body.length + "\r\nconnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int status = Integer.parseInt(response.substring(9, 12));
      int split = response.indexOf("\r\n\r\n");
      return new Reply(status, split < 0 ? "" : response.substring(split + 4), null, null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private HttpRequest.Builder signed(String surfaceId, String ts, String signature, String body) {
    return HttpRequest.newBuilder(URI.create(base + "/v1/conversions"))
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("x-ea-surface", surfaceId)
        .header("x-ea-timestamp", ts)
        .header("x-ea-signature", signature)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(body)));
  }

  private Reply send(HttpRequest request) {
    return join(sendAsync(request));
  }

  private CompletableFuture<Reply> sendAsync(HttpRequest request) {
    // Every request has a deadline: a request the server never answers must fail the test, not hang it.
    HttpRequest bounded = request.timeout().isPresent() ? request
        : HttpRequest.newBuilder(request, (name, value) -> true).timeout(timeout).build();
    return http.sendAsync(bounded, HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> new Reply(r.statusCode(), r.body(), r.headers().firstValue("retry-after").orElse(null),
            r.headers().firstValue("location").orElse(null)));
  }

  private static Reply join(CompletableFuture<Reply> f) {
    try {
      return f.join();
    } catch (RuntimeException e) {
      if (e.getCause() instanceof IOException io) {
        throw new UncheckedIOException(io);
      }
      throw e;
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** An HTTP answer. */
  public record Reply(int status, String body, String retryAfter, String location) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String error() {
      return json().getString("error");
    }
  }
}
