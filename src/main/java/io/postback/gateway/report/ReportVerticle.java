package io.postback.gateway.report;

import io.postback.gateway.config.Backends;
import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.config.PostgresUrl;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/**
 * Attribution report generation, apart from delivery: a report holds one connection for the whole of
 * its cursor read, long-running work that must not take a connection from the delivery pool. The
 * reports' leases let any number of these, in any number of gateways, share the work.
 */
public final class ReportVerticle extends VerticleBase {
  private final GatewayConfig config;
  private final Backends backends;
  private Pool pool;
  private ReportGenerator reports;
  private long timer;

  public ReportVerticle(GatewayConfig config, Backends backends) {
    this.config = config;
    this.backends = backends;
  }

  @Override
  public Future<?> start() {
    // The cursor's connection plus one for the totals and progress updates beside it.
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(2).setName("postgres-reports"))
        .connectingTo(new PostgresUrl(backends.pgUrl()).connectOptions())
        .using(vertx)
        .build();
    reports = new ReportGenerator(vertx, pool);
    timer = vertx.setPeriodic(Math.max(config.delivery().pollInterval().toMillis(), 500), id -> reports.run());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return reports.stop().eventually(() -> pool.close());
  }
}
