package io.postback.gateway.store;

import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Where heavy reads go: report generation and the admin lists read from a streaming replica when one
 * is configured ({@code GATEWAY_PG_READ_URL}), so they do not compete with ingest on the primary.
 * Only reads that may lag the primary by the replication delay come here; whatever must see its own
 * writes (look-ups right after a write, anything in a write transaction) stays on the primary pool.
 *
 * <p>When the replica does not answer, the read runs on the primary instead and the replica is left
 * alone for {@link #RETRY_MS}: {@code gateway_pg_read_fallbacks_total} counts each read the primary
 * served for it and {@code gateway_dependency_up{dependency="postgres_replica"}} goes to 0. One per
 * verticle, like its pools.
 */
public final class ReadReplica {
  private static final Logger LOG = LoggerFactory.getLogger(ReadReplica.class);
  static final long RETRY_MS = 5_000;
  private static final int CONNECT_TIMEOUT_MS = 1_000;
  private static final String DEPENDENCY = "postgres_replica";

  private final Pool primary;
  private final Pool replica;
  private final GatewayMetrics metrics;
  private long downUntil;

  private ReadReplica(Pool primary, Pool replica, GatewayMetrics metrics) {
    this.primary = primary;
    this.replica = replica;
    this.metrics = metrics;
  }

  /** Reads from the replica at {@code readUrl}, or from {@code primary} alone when it is null. */
  public static ReadReplica create(Vertx vertx, String readUrl, Pool primary, int poolSize, String name,
                                   GatewayMetrics metrics) {
    if (readUrl == null) {
      return new ReadReplica(primary, null, metrics);
    }
    metrics.dependency(DEPENDENCY);
    Pool replica = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(poolSize).setName(name)
            .setConnectionTimeout(2 * CONNECT_TIMEOUT_MS).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
        .with(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS))
        .connectingTo(new PostgresUrl(readUrl).connectOptions())
        .using(vertx)
        .build();
    return new ReadReplica(primary, replica, metrics);
  }

  /** Runs a read-only query (it may run twice: on the replica, then on the primary). */
  public <T> Future<T> read(Function<SqlClient, Future<T>> query) {
    if (!replicaInUse()) {
      return query.apply(primary);
    }
    return query.apply(replica).transform(ar -> {
      if (ar.succeeded()) {
        replicaAnswered();
        return Future.succeededFuture(ar.result());
      }
      replicaFailed(ar.cause());
      return query.apply(primary);
    });
  }

  /** A connection for a read-only transaction (a cursor over a snapshot); the caller closes it. */
  public Future<SqlConnection> connection() {
    if (!replicaInUse()) {
      return primary.getConnection();
    }
    return replica.getConnection().transform(ar -> {
      if (ar.succeeded()) {
        replicaAnswered();
        return Future.succeededFuture(ar.result());
      }
      replicaFailed(ar.cause());
      return primary.getConnection();
    });
  }

  public Future<Void> close() {
    return replica == null ? Future.succeededFuture() : replica.close();
  }

  private boolean replicaInUse() {
    if (replica == null) {
      return false;
    }
    if (System.currentTimeMillis() < downUntil) {
      metrics.readFallback();
      return false;
    }
    return true;
  }

  private void replicaAnswered() {
    if (metrics.dependencyUp(DEPENDENCY, true)) {
      LOG.info("the Postgres read replica answers again");
    }
  }

  private void replicaFailed(Throwable cause) {
    metrics.readFallback();
    // The query's own error (syntax, data) would fail on the primary too: the replica is not to blame.
    if (cause instanceof PgException pg && pg.getSqlState() != null
        && (pg.getSqlState().startsWith("42") || pg.getSqlState().startsWith("22"))) {
      return;
    }
    downUntil = System.currentTimeMillis() + RETRY_MS;
    if (metrics.dependencyUp(DEPENDENCY, false)) {
      LOG.warn("the Postgres read replica is unavailable ({}); reading from the primary", cause.toString());
    }
  }
}
