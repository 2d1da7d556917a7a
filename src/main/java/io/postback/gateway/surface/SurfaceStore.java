package io.postback.gateway.surface;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/** Postgres access for surfaces. */
public final class SurfaceStore {
  private static final String COLUMNS =
      "id, name, secret, previous_secret, previous_secret_valid_until, timestamp_tolerance_ms, created_at, updated_at";
  private static final String INSERT = "INSERT INTO surfaces (id, name, secret, timestamp_tolerance_ms) "
      + "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING " + COLUMNS;
  private static final String FIND = "SELECT " + COLUMNS + " FROM surfaces WHERE id = $1";
  private static final String CHANGED_SINCE = "SELECT " + COLUMNS + " FROM surfaces WHERE updated_at > $1";
  private static final String UPDATE = "UPDATE surfaces SET name = COALESCE($2, name), "
      + "timestamp_tolerance_ms = COALESCE($3, timestamp_tolerance_ms), updated_at = now() "
      + "WHERE id = $1 RETURNING " + COLUMNS;
  // The previous secret keeps verifying until the grace time; the old previous one is dropped.
  private static final String ROTATE = "UPDATE surfaces SET previous_secret = secret, secret = $2, "
      + "previous_secret_valid_until = now() + make_interval(secs => $3), updated_at = now() "
      + "WHERE id = $1 RETURNING " + COLUMNS;

  private final Pool pool;

  public SurfaceStore(Pool pool) {
    this.pool = pool;
  }

  /** Inserts a surface; the future holds null when the id is taken. */
  public Future<Surface> insert(String id, String name, String secret, Duration tolerance) {
    return pool.preparedQuery(INSERT)
        .execute(Tuple.of(id, name, secret, tolerance == null ? null : tolerance.toMillis()))
        .map(SurfaceStore::first);
  }

  public Future<Surface> find(String id) {
    return pool.preparedQuery(FIND).execute(Tuple.of(id)).map(SurfaceStore::first);
  }

  public Future<List<Surface>> changedSince(Instant since) {
    return pool.preparedQuery(CHANGED_SINCE)
        .execute(Tuple.of(OffsetDateTime.ofInstant(since, ZoneOffset.UTC)))
        .map(rows -> {
          List<Surface> out = new ArrayList<>(rows.size());
          rows.forEach(r -> out.add(toSurface(r)));
          return out;
        });
  }

  public Future<Surface> update(String id, String name, Duration tolerance) {
    return pool.preparedQuery(UPDATE)
        .execute(Tuple.of(id, name, tolerance == null ? null : tolerance.toMillis()))
        .map(SurfaceStore::first);
  }

  public Future<Surface> rotate(String id, String newSecret, Duration grace) {
    return pool.preparedQuery(ROTATE)
        .execute(Tuple.of(id, newSecret, (double) grace.toMillis() / 1000.0))
        .map(SurfaceStore::first);
  }

  private static Surface first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : toSurface(rows.iterator().next());
  }

  private static Surface toSurface(Row r) {
    Long toleranceMs = r.getLong("timestamp_tolerance_ms");
    OffsetDateTime validUntil = r.getOffsetDateTime("previous_secret_valid_until");
    return new Surface(
        r.getString("id"),
        r.getString("name"),
        r.getString("secret"),
        r.getString("previous_secret"),
        validUntil == null ? null : validUntil.toInstant(),
        toleranceMs == null ? null : Duration.ofMillis(toleranceMs),
        r.getOffsetDateTime("created_at").toInstant(),
        r.getOffsetDateTime("updated_at").toInstant());
  }
}
