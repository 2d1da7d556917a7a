package io.postback.gateway.surface;

import io.postback.gateway.net.Cidr;
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
      "id, name, secret, previous_secret, previous_secret_valid_until, timestamp_tolerance_ms, created_at, updated_at, "
          + "attribution_window_ms, refund_window_ms, min_click_to_conversion_ms, postback_token, ip_allowlist, "
          + "rate_limit_per_second, rate_limit_burst, postback_token_enabled, previous_postback_token, "
          + "previous_postback_token_valid_until";
  private static final String INSERT = "INSERT INTO surfaces (id, name, secret, timestamp_tolerance_ms, postback_token) "
      + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING " + COLUMNS;
  private static final String FIND = "SELECT " + COLUMNS + " FROM surfaces WHERE id = $1";
  // Search is a plain substring match (strpos): the operator's text is never a LIKE pattern.
  private static final String PAGE = "SELECT " + COLUMNS + " FROM surfaces "
      + "WHERE ($1::text IS NULL OR strpos(lower(id), lower($1)) > 0 OR strpos(lower(name), lower($1)) > 0) "
      + "AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3";
  private static final String CHANGED_SINCE = "SELECT " + COLUMNS + " FROM surfaces WHERE updated_at > $1";
  // A null argument keeps the column; the "clear" flags turn an optional limit off again.
  private static final String UPDATE = "UPDATE surfaces SET name = COALESCE($2, name), "
      + "timestamp_tolerance_ms = COALESCE($3, timestamp_tolerance_ms), "
      + "attribution_window_ms = COALESCE($4, attribution_window_ms), "
      + "refund_window_ms = COALESCE($5, refund_window_ms), "
      + "min_click_to_conversion_ms = CASE WHEN $6 < 0 THEN NULL ELSE COALESCE($6, min_click_to_conversion_ms) END, "
      + "ip_allowlist = COALESCE($7, ip_allowlist), "
      + "rate_limit_per_second = CASE WHEN $8 = 0 THEN NULL ELSE COALESCE($8, rate_limit_per_second) END, "
      + "rate_limit_burst = CASE WHEN $9 = 0 THEN NULL ELSE COALESCE($9, rate_limit_burst) END, "
      + "postback_token_enabled = COALESCE($10, postback_token_enabled), "
      + "updated_at = now() WHERE id = $1 RETURNING " + COLUMNS;
  // The previous secret keeps verifying until the grace time; the old previous one is dropped.
  private static final String ROTATE = "UPDATE surfaces SET previous_secret = secret, secret = $2, "
      + "previous_secret_valid_until = now() + make_interval(secs => $3), updated_at = now() "
      + "WHERE id = $1 RETURNING " + COLUMNS;
  // Like ROTATE: the previous token keeps authenticating until the grace time (0: not at all).
  private static final String ROTATE_TOKEN = "UPDATE surfaces SET previous_postback_token = postback_token, "
      + "postback_token = $2, previous_postback_token_valid_until = now() + make_interval(secs => $3), "
      + "updated_at = now() WHERE id = $1 RETURNING " + COLUMNS;

  /**
   * A change to a surface's settings; null fields stay as they are. {@code minClickToConversionMs} below
   * zero and rate-limit values of zero switch the check off; an empty allowlist allows any address.
   */
  public record SurfaceChange(String name, Duration tolerance, Duration attributionWindow, Duration refundWindow,
                              Long minClickToConversionMs, List<Cidr> ipAllowlist, Integer rateLimitPerSecond,
                              Integer rateLimitBurst, Boolean postbackTokenEnabled) {
  }

  private final Pool pool;

  public SurfaceStore(Pool pool) {
    this.pool = pool;
  }

  /** Inserts a surface; the future holds null when the id is taken. */
  public Future<Surface> insert(String id, String name, String secret, Duration tolerance, String postbackToken) {
    return pool.preparedQuery(INSERT)
        .execute(Tuple.of(id, name, secret, tolerance == null ? null : tolerance.toMillis(), postbackToken))
        .map(SurfaceStore::first);
  }

  public Future<Surface> find(String id) {
    return pool.preparedQuery(FIND).execute(Tuple.of(id)).map(SurfaceStore::first);
  }

  /** Surfaces ordered by id after {@code cursor}, whose id or name contains {@code search} (both optional). */
  public Future<List<Surface>> page(String search, String cursor, int limit) {
    return pool.preparedQuery(PAGE).execute(Tuple.of(search, cursor, limit)).map(rows -> {
      List<Surface> out = new ArrayList<>(rows.size());
      rows.forEach(r -> out.add(toSurface(r)));
      return out;
    });
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

  public Future<Surface> update(String id, SurfaceChange change) {
    String[] allowlist = change.ipAllowlist() == null ? null
        : change.ipAllowlist().stream().map(Cidr::toString).toArray(String[]::new);
    return pool.preparedQuery(UPDATE)
        .execute(Tuple.tuple()
            .addValue(id)
            .addValue(change.name())
            .addValue(millis(change.tolerance()))
            .addValue(millis(change.attributionWindow()))
            .addValue(millis(change.refundWindow()))
            .addValue(change.minClickToConversionMs())
            .addValue(allowlist)
            .addValue(change.rateLimitPerSecond())
            .addValue(change.rateLimitBurst())
            .addValue(change.postbackTokenEnabled()))
        .map(SurfaceStore::first);
  }

  public Future<Surface> rotate(String id, String newSecret, Duration grace) {
    return pool.preparedQuery(ROTATE)
        .execute(Tuple.of(id, newSecret, (double) grace.toMillis() / 1000.0))
        .map(SurfaceStore::first);
  }

  public Future<Surface> rotatePostbackToken(String id, String newToken, Duration grace) {
    return pool.preparedQuery(ROTATE_TOKEN)
        .execute(Tuple.of(id, newToken, (double) grace.toMillis() / 1000.0))
        .map(SurfaceStore::first);
  }

  private static Long millis(Duration d) {
    return d == null ? null : d.toMillis();
  }

  private static Surface first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : toSurface(rows.iterator().next());
  }

  private static Surface toSurface(Row r) {
    Long toleranceMs = r.getLong("timestamp_tolerance_ms");
    OffsetDateTime validUntil = r.getOffsetDateTime("previous_secret_valid_until");
    OffsetDateTime tokenValidUntil = r.getOffsetDateTime("previous_postback_token_valid_until");
    Long attributionMs = r.getLong("attribution_window_ms");
    Long refundMs = r.getLong("refund_window_ms");
    Long minClickMs = r.getLong("min_click_to_conversion_ms");
    String[] allowlist = r.getArrayOfStrings("ip_allowlist");
    List<Cidr> cidrs = new ArrayList<>();
    if (allowlist != null) {
      for (String c : allowlist) {
        cidrs.add(Cidr.parse(c));
      }
    }
    return new Surface(
        r.getString("id"),
        r.getString("name"),
        r.getString("secret"),
        r.getString("previous_secret"),
        validUntil == null ? null : validUntil.toInstant(),
        toleranceMs == null ? null : Duration.ofMillis(toleranceMs),
        r.getOffsetDateTime("created_at").toInstant(),
        r.getOffsetDateTime("updated_at").toInstant(),
        attributionMs == null ? Surface.DEFAULT_ATTRIBUTION_WINDOW : Duration.ofMillis(attributionMs),
        refundMs == null ? Surface.DEFAULT_REFUND_WINDOW : Duration.ofMillis(refundMs),
        minClickMs == null ? null : Duration.ofMillis(minClickMs),
        r.getString("postback_token"),
        List.copyOf(cidrs),
        r.getInteger("rate_limit_per_second"),
        r.getInteger("rate_limit_burst"),
        r.getBoolean("postback_token_enabled"),
        r.getString("previous_postback_token"),
        tokenValidUntil == null ? null : tokenValidUntil.toInstant());
  }
}
