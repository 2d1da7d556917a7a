package io.postback.gateway.support;

import io.postback.gateway.Gateway;
import io.postback.gateway.config.Backends;
import io.postback.gateway.config.GatewayConfig;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A real gateway on a free port, over the test Postgres and Redis, and a client for it. */
public final class RunningGateway implements AutoCloseable {
  private final Gateway gateway;
  private final GatewayClient client;

  private RunningGateway(Gateway gateway) {
    this.gateway = gateway;
    this.client = new GatewayClient(gateway.config().httpPort());
  }

  public static RunningGateway start() {
    return start(Map.of());
  }

  /** Starts a gateway; {@code env} overrides configuration like GATEWAY_* variables would. */
  public static RunningGateway start(Map<String, String> env) {
    return start(TestBackends.get(), env);
  }

  /**
   * Starts a gateway on other servers than the shared test ones, e.g. a private Postgres or Redis that a
   * test freezes or stops.
   */
  public static RunningGateway start(Backends backends, Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("GATEWAY_HTTP_PORT", String.valueOf(freePort()));
    all.putIfAbsent("GATEWAY_ALLOW_PRIVATE_DESTINATIONS", "true");
    // Every test visitor clicks from 127.0.0.1: the per-address click limit is off unless a test sets it.
    all.putIfAbsent("GATEWAY_CLICK_IP_RATE_PER_SECOND", "0");
    GatewayConfig config = GatewayConfig.from(new JsonObject(), all);
    try {
      return new RunningGateway(Gateway.start(config, backends).await(60, TimeUnit.SECONDS));
    } catch (Exception e) {
      throw new IllegalStateException("gateway did not start", e);
    }
  }

  public GatewayClient client() {
    return client;
  }

  public Gateway gateway() {
    return gateway;
  }

  public int port() {
    return gateway.config().httpPort();
  }

  @Override
  public void close() {
    try {
      gateway.close().await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
