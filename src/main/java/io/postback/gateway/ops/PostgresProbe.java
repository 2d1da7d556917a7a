package io.postback.gateway.ops;

import io.postback.gateway.http.ErrorResponder;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Feeds {@code gateway_dependency_up{dependency="postgres"}} so that the PostgresUnavailable alert works
 * from a scrape alone: a periodic {@code SELECT 1} (with its own deadline, so a frozen server counts as
 * down) sets it either way, and a Postgres failure seen by a request sets it to 0 at once. Successful
 * requests never write it: the gauge is shared by every event loop, and a write per request would
 * bounce its cache line between cores; the next probe brings it back to 1.
 */
public final class PostgresProbe {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresProbe.class);
  private static final long TIMEOUT_MS = 2_000;

  private final GatewayMetrics metrics;

  public PostgresProbe(GatewayMetrics metrics) {
    this.metrics = metrics;
  }

  /** Whether Postgres answers {@code SELECT 1} within {@link #TIMEOUT_MS}; records the answer in the gauge. */
  public Future<Boolean> check(Pool pool) {
    return pool.query("SELECT 1").execute()
        .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(true)
        .otherwise(false)
        .andThen(ar -> record(metrics, ar.result(), null));
  }

  /**
   * A failure a request met on its way through Postgres: a connection-level one means Postgres is not
   * reachable. A full pool or queue (overload) and anything about the request itself do not count.
   */
  public static void failed(GatewayMetrics metrics, Throwable failure) {
    if (failure != null && !ErrorResponder.isPoolExhausted(failure) && ErrorResponder.isDependencyFailure(failure)) {
      record(metrics, false, failure);
    }
  }

  private static void record(GatewayMetrics metrics, boolean up, Throwable cause) {
    if (metrics.dependencyUp("postgres", up)) {
      if (up) {
        LOG.info("Postgres answers again");
      } else {
        LOG.warn("Postgres is unavailable{}", cause == null ? " (no answer to the periodic check)" : ": " + cause);
      }
    }
  }
}
