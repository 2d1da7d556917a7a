package io.postback.gateway.ops;

import io.postback.gateway.http.ErrorResponder;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * The management port ({@code managementPort}): {@code /metrics} alone, on a port of its own that the
 * network can keep private (Prometheus reaches it, the public does not). Deployed only when the port is
 * set; the main port then has no {@code /metrics}.
 */
public final class ManagementVerticle extends VerticleBase {
  private final int port;
  private final GatewayMetrics metrics;
  private HttpServer server;

  public ManagementVerticle(int port, GatewayMetrics metrics) {
    this.port = port;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    new MetricsEndpoint(vertx, metrics).mount(router);
    router.errorHandler(404, ErrorResponder::handle);
    router.errorHandler(405, ErrorResponder::handle);
    server = vertx.createHttpServer(new HttpServerOptions().setPort(port).setHost("0.0.0.0"));
    return server.requestHandler(router).listen();
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }
}
