package io.postback.gateway.support;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * A real HTTP server on 127.0.0.1 standing in for an integrator. Each path has its own behaviour
 * (status, headers, delay; by default 204 at once) and records every request it receives, with the
 * most concurrent requests it saw for one webhook-id.
 */
public final class WebhookReceiver implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final Map<String, List<Received>> received = new ConcurrentHashMap<>();
  private final Map<String, BiFunction<Integer, Received, Answer>> behaviours = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> inFlightById = new ConcurrentHashMap<>();
  private final AtomicInteger maxInFlightPerId = new AtomicInteger();
  private final Map<String, AtomicInteger> inFlightByPath = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> maxInFlightByPath = new ConcurrentHashMap<>();

  /** One received request: headers as a map (lower-case names), the raw body, when it arrived. */
  public record Received(Map<String, String> headers, String body, long atMillis) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String header(String name) {
      return headers.get(name);
    }
  }

  /** What to answer: status, extra headers, a delay before answering, and the body (null: "answer <status>"). */
  public record Answer(int status, Map<String, String> headers, long delayMs, byte[] body) {
    public Answer(int status, Map<String, String> headers, long delayMs) {
      this(status, headers, delayMs, null);
    }

    public static Answer of(int status) {
      return new Answer(status, Map.of(), 0);
    }

    /** Answers these raw bytes as the body, whatever they are. */
    public static Answer withBody(int status, byte[] body) {
      return new Answer(status, Map.of(), 0, body);
    }
  }

  public WebhookReceiver() {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      Map<String, String> headers = new ConcurrentHashMap<>();
      req.headers().forEach(e -> headers.put(e.getKey().toLowerCase(), e.getValue()));
      Received r = new Received(headers, body.toString(), System.currentTimeMillis());
      List<Received> list = received.computeIfAbsent(req.path(), k -> java.util.Collections.synchronizedList(new ArrayList<>()));
      int index;
      synchronized (list) {
        list.add(r);
        index = list.size();
      }
      String id = headers.getOrDefault("webhook-id", "");
      int now = inFlightById.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      maxInFlightPerId.accumulateAndGet(now, Math::max);
      int onPath = inFlightByPath.computeIfAbsent(req.path(), k -> new AtomicInteger()).incrementAndGet();
      maxInFlightByPath.computeIfAbsent(req.path(), k -> new AtomicInteger()).accumulateAndGet(onPath, Math::max);
      Answer answer = behaviours.getOrDefault(req.path(), (n, x) -> Answer.of(204)).apply(index, r);
      Runnable reply = () -> {
        inFlightById.get(id).decrementAndGet();
        inFlightByPath.get(req.path()).decrementAndGet();
        var resp = req.response().setStatusCode(answer.status());
        answer.headers().forEach(resp::putHeader);
        if (answer.body() != null) {
          resp.end(io.vertx.core.buffer.Buffer.buffer(answer.body()));
        } else {
          resp.end("answer " + answer.status());
        }
      };
      if (answer.delayMs() > 0) {
        vertx.setTimer(answer.delayMs(), t -> reply.run());
      } else {
        reply.run();
      }
    }));
    try {
      server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  /** Sets how a path answers; the function gets the 1-based number of the request on that path. */
  public void behave(String path, BiFunction<Integer, Received, Answer> behaviour) {
    behaviours.put(path, behaviour);
  }

  public List<Received> received(String path) {
    List<Received> list = received.get(path);
    if (list == null) {
      return List.of();
    }
    synchronized (list) {
      return List.copyOf(list);
    }
  }

  /** The most requests that were open at once on a path. */
  public int maxConcurrent(String path) {
    AtomicInteger max = maxInFlightByPath.get(path);
    return max == null ? 0 : max.get();
  }

  public int maxConcurrentPerWebhookId() {
    return maxInFlightPerId.get();
  }

  @Override
  public void close() {
    vertx.close();
  }
}
