package io.postback.gateway.delivery;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;

/**
 * A real HTTP server on 127.0.0.1 playing an affiliate's tracker (Voluum, Binom, ...): it records each
 * request line exactly as received ({@code GET /pb?cid=...}) with its body and content type, and answers
 * the status its behaviour gives for the n-th request (by default 200 with a body saying "ok"). It can
 * be stopped and started again on the same port (tracker down, then up).
 */
final class Tracker implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
  private volatile IntUnaryOperator status = n -> 200;
  private HttpServer server;
  private int port;

  /** One request as the tracker saw it. */
  record Request(String method, String uri, String contentType, String body) {
    String line() {
      return method + " " + uri;
    }

    /** The query parameters, decoded; a repeated name fails (the tests want each exactly once). */
    Map<String, String> query() {
      Map<String, String> out = new LinkedHashMap<>();
      String raw = URI.create(uri).getRawQuery();
      if (raw == null) {
        return out;
      }
      for (String pair : raw.split("&", -1)) {
        int eq = pair.indexOf('=');
        String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        if (out.put(name, value) != null) {
          throw new AssertionError("parameter " + name + " repeated in " + uri);
        }
      }
      return out;
    }
  }

  Tracker() {
    start(0);
  }

  private void start(int onPort) {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      int n;
      synchronized (requests) {
        requests.add(new Request(req.method().name(), req.uri(), req.getHeader("content-type"), body.toString()));
        n = requests.size();
      }
      int code = status.applyAsInt(n);
      req.response().setStatusCode(code).end(code < 300 ? "{\"result\":\"ok\"}" : "tracker error " + code);
    }));
    try {
      server.listen(onPort, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("tracker did not start", e);
    }
    port = server.actualPort();
  }

  /** Stops listening: connections are refused until {@link #up()}. */
  void down() {
    try {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Listens again on the same port. */
  void up() {
    start(port);
  }

  /** The status to answer for the n-th request (1-based, over the tracker's life). */
  void answer(IntUnaryOperator status) {
    this.status = status;
  }

  String url(String pathAndQuery) {
    return "http://127.0.0.1:" + port + pathAndQuery;
  }

  List<Request> requests(String path) {
    synchronized (requests) {
      return requests.stream().filter(r -> URI.create(r.uri()).getRawPath().equals(path)).toList();
    }
  }

  @Override
  public void close() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }
}
