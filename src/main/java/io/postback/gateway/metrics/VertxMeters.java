package io.postback.gateway.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.Vertx;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

/**
 * Vert.x's meters in the gateway's registry: Vert.x Micrometer's for pools, clients and the JVM, and
 * {@link HttpServerMeters} for the HTTP servers (same series, a fraction of the cost per request). The
 * HTTP servers have none when the options disable {@link MetricsDomain#HTTP_SERVER}.
 */
public final class VertxMeters implements VertxMetricsFactory {
  private final MeterRegistry registry;
  private final MicrometerMetricsFactory micrometer;

  public VertxMeters(MeterRegistry registry) {
    this.registry = registry;
    this.micrometer = new MicrometerMetricsFactory(registry);
  }

  @Override
  public MetricsOptions newOptions(MetricsOptions options) {
    return micrometer.newOptions(options);
  }

  @Override
  public VertxMetrics metrics(VertxOptions options) {
    VertxMetrics delegate = micrometer.metrics(options);
    HttpServerMeters http = options.getMetricsOptions() instanceof MicrometerMetricsOptions micrometerOptions
        && micrometerOptions.isMetricsCategoryDisabled(MetricsDomain.HTTP_SERVER) ? null : new HttpServerMeters(registry);
    return new VertxMetrics() {
      @Override
      public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(HttpServerOptions serverOptions, SocketAddress localAddress) {
        return http;
      }

      // Everything else is Vert.x Micrometer's.
      @Override
      public EventBusMetrics<?> createEventBusMetrics() {
        return delegate.createEventBusMetrics();
      }

      @Override
      public ClientMetrics<?, ?, ?> createClientMetrics(SocketAddress remoteAddress, String type, String namespace) {
        return delegate.createClientMetrics(remoteAddress, type, namespace);
      }

      @Override
      public HttpClientMetrics<?, ?, ?> createHttpClientMetrics(HttpClientOptions clientOptions) {
        return delegate.createHttpClientMetrics(clientOptions);
      }

      @Override
      public TCPMetrics<?> createNetServerMetrics(NetServerOptions serverOptions, SocketAddress localAddress) {
        return delegate.createNetServerMetrics(serverOptions, localAddress);
      }

      @Override
      public TCPMetrics<?> createNetClientMetrics(NetClientOptions clientOptions) {
        return delegate.createNetClientMetrics(clientOptions);
      }

      @Override
      public DatagramSocketMetrics createDatagramSocketMetrics(DatagramSocketOptions socketOptions) {
        return delegate.createDatagramSocketMetrics(socketOptions);
      }

      @Override
      public PoolMetrics<?, ?> createPoolMetrics(String type, String name, int maxSize) {
        return delegate.createPoolMetrics(type, name, maxSize);
      }

      @Override
      public void vertxCreated(Vertx vertx) {
        delegate.vertxCreated(vertx);
      }

      @Override
      public boolean isMetricsEnabled() {
        return delegate.isMetricsEnabled();
      }

      @Override
      public void close() {
        delegate.close();
      }
    };
  }
}
