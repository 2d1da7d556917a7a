package io.postback.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The {@code vertx_http_server_*} series the dashboards and alerts read, recorded through Vert.x's own
 * metrics hooks (so every request the server answers counts, routed or not) but with meters looked up
 * once per (route, method, code) instead of once per request:
 * {@code vertx_http_server_requests_total{route,method,code}},
 * {@code vertx_http_server_response_time_seconds} (a histogram, see GatewayMetrics) and
 * {@code vertx_http_server_active_connections}. Vert.x Micrometer's implementation built tags and looked
 * up five meters for every request, about 8 % of the JVM's time on a duplicate postback; its byte-size
 * summaries and active-request gauge, which nothing read, are not kept.
 *
 * <p>The route label is as Vert.x Web reports it: the names of the routes that matched, joined by
 * {@code >}, empty when none did. Methods outside the common ones count as {@code OTHER}: the method is
 * whatever the client sent, and each distinct label value would be a series kept forever.
 */
final class HttpServerMeters implements HttpServerMetrics<HttpServerMeters.Request, Void, Void> {
  private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
      "TRACE", "CONNECT");

  private final MeterRegistry registry;
  private final Map<Series, Meters> meters = new ConcurrentHashMap<>();
  private final LongAdder connections = new LongAdder();

  HttpServerMeters(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("vertx.http.server.active.connections", connections, LongAdder::doubleValue)
        .description("Number of opened connections to the server")
        .register(registry);
  }

  /** One request in progress: when its head was read, its method, the routes it took. */
  static final class Request {
    final long startNanos = System.nanoTime();
    final String method;
    String route = "";

    Request(String method) {
      this.method = method;
    }
  }

  private record Series(String route, String method, int code) {
  }

  private record Meters(Counter requests, Timer responseTime) {
  }

  @Override
  public Void connected(SocketAddress remoteAddress, String remoteName) {
    connections.increment();
    return null;
  }

  @Override
  public void disconnected(Void socketMetric, SocketAddress remoteAddress) {
    connections.decrement();
  }

  @Override
  public Request requestBegin(Void socketMetric, HttpRequest request) {
    String method = request.method().name();
    return new Request(METHODS.contains(method) ? method : "OTHER");
  }

  @Override
  public void requestRouted(Request request, String route) {
    if (route != null) {
      request.route = request.route.isEmpty() ? route : request.route + '>' + route;
    }
  }

  @Override
  public void responseEnd(Request request, HttpResponse response, long bytesWritten) {
    if (request == null) {
      return;
    }
    Series series = new Series(request.route, request.method, response.statusCode());
    Meters m = meters.get(series);
    if (m == null) {
      m = meters.computeIfAbsent(series, this::register);
    }
    m.requests().increment();
    m.responseTime().record(System.nanoTime() - request.startNanos, TimeUnit.NANOSECONDS);
  }

  private Meters register(Series s) {
    Tags tags = Tags.of("route", s.route(), "method", s.method(), "code", String.valueOf(s.code()));
    return new Meters(
        Counter.builder("vertx.http.server.requests").description("Number of processed requests").tags(tags)
            .register(registry),
        Timer.builder("vertx.http.server.response.time").description("Request processing time").tags(tags)
            .register(registry));
  }
}
