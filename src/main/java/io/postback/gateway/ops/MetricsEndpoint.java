package io.postback.gateway.ops;

import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /metrics} in the Prometheus text format: on the main port by default, or alone on the
 * management port when one is configured ({@link ManagementVerticle}), so that business volume is not
 * public where the main port is.
 */
public final class MetricsEndpoint {
  private final Vertx vertx;
  private final GatewayMetrics metrics;

  public MetricsEndpoint(Vertx vertx, GatewayMetrics metrics) {
    this.vertx = vertx;
    this.metrics = metrics;
  }

  public void mount(Router router) {
    router.get("/metrics").handler(this::scrape);
  }

  private void scrape(RoutingContext ctx) {
    // Rendering walks every meter: keep it off the event loop.
    vertx.executeBlocking(metrics::scrape, false).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      ctx.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
          .end(ar.result());
    });
  }
}
