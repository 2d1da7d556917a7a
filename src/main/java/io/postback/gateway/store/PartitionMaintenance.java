package io.postback.gateway.store;

import io.postback.gateway.config.GatewayConfig.RetentionSettings;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Creates the day partitions of clicks, events, deliveries and delivery_attempts ahead and drops those
 * behind their retention (V110, docs/scaling.md "Partitioning and retention"). Any number of instances
 * may run it at once: the work is done by whichever holds a Postgres advisory lock, the others only
 * refresh their gauges.
 *
 * <p>A day partition entirely older than its table's retention is detached, the rows that must stay are
 * copied into the parent (they land in the default partition, whose CHECK bound moves up past the day),
 * and the detached table is dropped, all in one transaction. What stays: pending and dead deliveries (a
 * delivery still to be sent, or waiting for an operator's replay, is never dropped), the attempts of
 * those deliveries, and every event that is not fanned out yet or that a kept delivery names. Succeeded
 * and skipped deliveries go with their day: a replay reaches back as far as the delivery retention.
 *
 * <p>That transaction holds the parent's ACCESS EXCLUSIVE lock (DETACH; CONCURRENTLY is refused while a
 * default partition exists), so inserts into the table wait for it: every query in it reads only the
 * small set that stays, through indexes (never a scan of the day), and it gives up after
 * {@link #LOCK_TIMEOUT} rather than queue the hot path behind a long wait. Tables are handled children first
 * (attempts, deliveries, events), and a day is dropped from a table only when its child table no longer
 * has that day, so a delivery never loses its event nor an attempt its delivery (the foreign keys that
 * said so are gone: V110 tells why). Rows kept in a default partition age out later, in bounded batches,
 * once what kept them has succeeded.
 */
public final class PartitionMaintenance {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionMaintenance.class);
  /** The advisory lock key: one retention run at a time across instances. */
  static final long LOCK = 0x7061727469L;
  private static final DateTimeFormatter DAY = DateTimeFormatter.BASIC_ISO_DATE;
  private static final int BATCH = 5_000;
  /**
   * How long one run keeps deleting aged rows from one default partition: a database converted by V110
   * holds its whole history there, and a fixed number of batches per run would take months to clear it.
   */
  private static final Duration AGE_OUT_BUDGET = Duration.ofMinutes(1);
  private static final String LOCK_TIMEOUT = "1s";
  /** How much longer than the longest attribution window clicks are kept at least. */
  public static final Duration CLICK_MARGIN = Duration.ofDays(1);

  // Copies the rows of a detached partition (%s) that must stay into the parent (its default partition),
  // each read through an index from the few that stay. Attempts first: their deliveries are still in the
  // day partition of deliveries then ($1, $2: the day's bounds), found by its pending and dead indexes.
  private static final String KEEP_ATTEMPTS = """
      INSERT INTO delivery_attempts SELECT a.* FROM deliveries d JOIN %s a ON a.delivery_id = d.id
       WHERE d.id >= $1 AND d.id < $2 AND (d.status = 'pending' OR d.status = 'dead')
      """;
  private static final String KEEP_DELIVERIES = """
      INSERT INTO deliveries SELECT * FROM %1$s WHERE status = 'pending' AND id >= $1 AND id < $2
      UNION ALL SELECT * FROM %1$s WHERE status = 'dead' AND id >= $1 AND id < $2
      """;
  // An event's deliveries share its day (delivery_id) and have left their day partition before the event's
  // day is handled, so whatever delivery names it is in the default partition (by deliveries_event_idx).
  private static final String KEEP_EVENTS = """
      INSERT INTO events SELECT e.* FROM %1$s e WHERE NOT e.fanned_out
      UNION SELECT e.* FROM deliveries_default d JOIN %1$s e ON e.id = d.event_id
       WHERE d.event_id >= $1 AND d.event_id < $2
      """;
  // Attempts kept earlier of deliveries dropped now (they succeeded meanwhile).
  private static final String DROP_ORPHAN_ATTEMPTS = """
      DELETE FROM delivery_attempts a USING %s d
       WHERE a.delivery_id = d.id AND d.status <> 'pending' AND d.status <> 'dead'
         AND a.delivery_id >= $1 AND a.delivery_id < $2
      """;
  // The lower bound in the CHECK of a table's default partition: below it, rows belong there.
  private static final String DEFAULT_BOUND = """
      SELECT substring(pg_get_constraintdef(oid) from '''([^'']*)''') COLLATE "C" FROM pg_constraint
       WHERE conrelid = ($1 || '_default')::regclass AND conname = $1 || '_default_bound'
      """;
  private static final String MOVE_BOUND = "SELECT set_default_bound($1, $2, greatest((" + DEFAULT_BOUND.replace("$1", "$1::text")
      + "), id_day_bound($2, $3::date + 1)))";
  // Bounded batches of what has aged out of the default partitions since it was kept there (or predates
  // the partitioning). Attempts before deliveries before events, as above.
  private static final String AGE_OUT_ATTEMPTS = """
      DELETE FROM delivery_attempts_default WHERE ctid = ANY (ARRAY(
        SELECT a.ctid FROM delivery_attempts_default a
         WHERE a.attempted_at < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id AND d.status IN ('pending', 'dead'))
         LIMIT $2))
      """;
  private static final String AGE_OUT_DELIVERIES = """
      DELETE FROM deliveries_default WHERE ctid = ANY (ARRAY(
        SELECT d.ctid FROM deliveries_default d
         WHERE d.status NOT IN ('pending', 'dead') AND d.updated_at < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id)
         LIMIT $2))
      """;
  private static final String AGE_OUT_EVENTS = """
      DELETE FROM events_default WHERE ctid = ANY (ARRAY(
        SELECT e.ctid FROM events_default e
         WHERE e.fanned_out AND e.created_at < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
         LIMIT $2))
      """;
  private static final String AGE_OUT_CLICKS = """
      DELETE FROM clicks_default WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM clicks_default WHERE clicked_at < now() - make_interval(secs => $1) LIMIT $2))
      """;
  // Payment providers' answered events (not partitioned: a few per payment), oldest first by their index.
  private static final String FORGET_PROVIDER_EVENTS = """
      DELETE FROM provider_events WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM provider_events WHERE received_at < now() - make_interval(secs => $1) LIMIT $2))
      """;
  /**
   * A partitioned table: its name; the prefix of its ids; the table whose day must be dropped first (null
   * for none); the copy of a dropped day's rows that must stay (%s the detached day, $1 and $2 its bounds;
   * null when nothing stays); the bounded delete of what has aged out of its default partition.
   */
  record Table(String name, String prefix, Table child, String keep, String ageOut) {
  }

  static final Table ATTEMPTS = new Table("delivery_attempts", "dlv", null, KEEP_ATTEMPTS, AGE_OUT_ATTEMPTS);
  static final Table DELIVERIES = new Table("deliveries", "dlv", ATTEMPTS, KEEP_DELIVERIES, AGE_OUT_DELIVERIES);
  static final Table EVENTS = new Table("events", "evt", DELIVERIES, KEEP_EVENTS, AGE_OUT_EVENTS);
  static final Table CLICKS = new Table("clicks", "ck", null, null, AGE_OUT_CLICKS);
  /** Children first: a day leaves attempts before deliveries, deliveries before events. */
  static final List<Table> TABLES = List.of(ATTEMPTS, DELIVERIES, EVENTS, CLICKS);

  private static final String PARTITIONS = """
      SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = $1::regclass AND c.relname <> $1 || '_default'
      """;
  private static final String LONGEST_WINDOW = "SELECT max(coalesce(attribution_window_ms, $1)) FROM surfaces";

  /** What one run did, for the log and the tests. */
  public record Outcome(boolean ranHere, int created, int dropped, long kept, long agedOut) {
  }

  private final Pool pool;
  private final RetentionSettings settings;
  private final GatewayMetrics metrics;

  public PartitionMaintenance(Pool pool, RetentionSettings settings, GatewayMetrics metrics) {
    this.pool = pool;
    this.settings = settings;
    this.metrics = metrics;
    // The gauges exist from the start (-1 until the first run has looked), so an alert sees a missing run.
    TABLES.forEach(t -> metrics.partitionsAhead(t.name(), -1));
  }

  /** One run: partitions ahead and retention if this instance gets the lock; the gauges in any case. */
  public Future<Outcome> run() {
    return pool.getConnection().compose(conn -> conn.query("SELECT pg_try_advisory_lock(" + LOCK + ")").execute()
        .compose(locked -> {
          if (!locked.iterator().next().getBoolean(0)) {
            return Future.succeededFuture(new Outcome(false, 0, 0, 0, 0));
          }
          return work(conn).eventually(() -> conn.query("SELECT pg_advisory_unlock(" + LOCK + ")").execute());
        })
        .compose(outcome -> gauges(conn).map(outcome))
        .eventually(conn::close));
  }

  private Future<Outcome> work(SqlConnection conn) {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    Outcome[] total = {new Outcome(true, 0, 0, 0, 0)};
    return retentions(conn).compose(retention -> {
      List<Supplier<Future<Void>>> steps = new ArrayList<>();
      for (Table t : TABLES) {
        steps.add(() -> createAhead(conn, t, today).map(n -> {
          total[0] = add(total[0], n, 0, 0, 0);
          return null;
        }));
        steps.add(() -> validateBound(conn, t));
      }
      for (Table t : TABLES) {
        Duration keep = retention.get(TABLES.indexOf(t));
        steps.add(() -> days(conn, t).compose(days -> {
          List<Supplier<Future<Void>>> drops = new ArrayList<>();
          for (LocalDate day : days) {
            if (!day.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC)
                .isAfter(Instant.now().minus(keep))) {
              drops.add(() -> childStillHas(conn, t, day).compose(blocked -> blocked ? Future.succeededFuture()
                  : drop(conn, t, day).map(kept -> {
                    total[0] = add(total[0], 0, 1, kept, 0);
                    return null;
                  })));
            }
          }
          return sequence(drops);
        }).compose(v -> validateBound(conn, t)));
      }
      for (Table t : TABLES) {
        Duration keep = retention.get(TABLES.indexOf(t));
        steps.add(() -> forget(conn, t.ageOut(), t.name(), keep, System.nanoTime() + AGE_OUT_BUDGET.toNanos()).map(n -> {
          total[0] = add(total[0], 0, 0, 0, n);
          return null;
        }));
      }
      steps.add(() -> forget(conn, FORGET_PROVIDER_EVENTS, "provider_events", settings.providerEvents(),
          System.nanoTime() + AGE_OUT_BUDGET.toNanos()).map(n -> {
        total[0] = add(total[0], 0, 0, 0, n);
        return null;
      }));
      return sequence(steps).map(v -> total[0]);
    }).onSuccess(o -> {
      if (o.created() > 0 || o.dropped() > 0 || o.agedOut() > 0) {
        LOG.info("partition maintenance: {} partitions created, {} dropped ({} rows kept in default partitions), "
            + "{} rows aged out of default partitions", o.created(), o.dropped(), o.kept(), o.agedOut());
      }
    });
  }

  private static Outcome add(Outcome o, int created, int dropped, long kept, long agedOut) {
    return new Outcome(true, o.created() + created, o.dropped() + dropped, o.kept() + kept, o.agedOut() + agedOut);
  }

  /**
   * The effective retention of each table (in TABLES order): clicks at least the longest attribution
   * window of any surface plus a margin, attempts at most deliveries, events at least deliveries.
   */
  Future<List<Duration>> retentions(SqlConnection conn) {
    return conn.preparedQuery(LONGEST_WINDOW).execute(Tuple.of(Surface.DEFAULT_ATTRIBUTION_WINDOW.toMillis()))
        .map(rows -> {
          Long longest = rows.iterator().next().getLong(0);
          Duration window = Duration.ofMillis(longest == null ? Surface.DEFAULT_ATTRIBUTION_WINDOW.toMillis() : longest);
          return effective(settings, window);
        });
  }

  /** The retentions actually applied, in TABLES order; logs where they differ from the settings. */
  static List<Duration> effective(RetentionSettings s, Duration longestWindow) {
    Duration deliveries = s.deliveries();
    Duration attempts = s.attempts().compareTo(deliveries) > 0 ? deliveries : s.attempts();
    Duration events = s.events().compareTo(deliveries) < 0 ? deliveries : s.events();
    Duration floor = roundUpToDays(longestWindow.plus(CLICK_MARGIN));
    Duration clicks = s.clicks().compareTo(floor) < 0 ? floor : s.clicks();
    if (!clicks.equals(s.clicks())) {
      LOG.info("clicks are kept {} days, not {}: the longest attribution window of a surface is {} and a click "
          + "must outlive it", clicks.toDays(), s.clicks().toDays(), longestWindow);
    }
    if (!attempts.equals(s.attempts()) || !events.equals(s.events())) {
      LOG.info("attempts are kept {} days and events {} days: attempts no longer than their deliveries, events no "
          + "shorter", attempts.toDays(), events.toDays());
    }
    return List.of(attempts, deliveries, events, clicks);
  }

  private static Duration roundUpToDays(Duration d) {
    long days = (d.toMillis() + Duration.ofDays(1).toMillis() - 1) / Duration.ofDays(1).toMillis();
    return Duration.ofDays(days);
  }

  private Future<Integer> createAhead(SqlConnection conn, Table t, LocalDate today) {
    int[] created = {0};
    return conn.preparedQuery(DEFAULT_BOUND).execute(Tuple.of(t.name())).compose(rows -> {
      String lowest = rows.iterator().next().getString(0);
      List<Supplier<Future<Void>>> steps = new ArrayList<>();
      for (int i = 0; i <= settings.partitionsAhead(); i++) {
        LocalDate day = today.plusDays(i);
        // A day below the default partition's bound (today, right after the migration) keeps its rows there:
        // creating its partition would have to scan the default partition for them.
        if (lowest != null && bound(t, day).compareTo(lowest) < 0) {
          continue;
        }
        steps.add(() -> inTransaction(conn, () -> conn.preparedQuery("SELECT create_day_partition($1, $2, $3)")
            .execute(Tuple.of(t.name(), t.prefix(), day))
            .map(created(created))));
      }
      return sequence(steps).map(v -> created[0]);
    });
  }

  private static java.util.function.Function<io.vertx.sqlclient.RowSet<Row>, Void> created(int[] created) {
    return rows -> {
      if (rows.iterator().next().getBoolean(0)) {
        created[0]++;
      }
      return null;
    };
  }

  /** The default partition's CHECK, moved NOT VALID under the exclusive lock, is validated here (a lighter lock). */
  private Future<Void> validateBound(SqlConnection conn, Table t) {
    return conn.preparedQuery("SELECT convalidated FROM pg_constraint WHERE conname = $1")
        .execute(Tuple.of(t.name() + "_default_bound"))
        .compose(rows -> !rows.iterator().hasNext() || rows.iterator().next().getBoolean(0) ? Future.succeededFuture()
            : conn.query("ALTER TABLE " + t.name() + "_default VALIDATE CONSTRAINT " + t.name() + "_default_bound")
                .execute().mapEmpty());
  }

  /** The days that have a partition of the table, in order. */
  Future<TreeSet<LocalDate>> days(SqlConnection conn, Table t) {
    return conn.preparedQuery(PARTITIONS).execute(Tuple.of(t.name())).map(rows -> {
      TreeSet<LocalDate> days = new TreeSet<>();
      String prefix = t.name() + "_p";
      for (Row r : rows) {
        String name = r.getString(0);
        if (name.startsWith(prefix) && name.length() == prefix.length() + 8) {
          days.add(LocalDate.parse(name.substring(prefix.length()), DAY));
        }
      }
      return days;
    });
  }

  /** True while the table's child still has the day (or an older one): that day must leave the child first. */
  private Future<Boolean> childStillHas(SqlConnection conn, Table t, LocalDate day) {
    Table child = t.child();
    if (child == null) {
      return Future.succeededFuture(false);
    }
    return days(conn, child).map(days -> {
      boolean blocked = !days.isEmpty() && !days.first().isAfter(day);
      if (blocked) {
        LOG.info("{} of {} waits: {} still has that day", t.name(), day, child.name());
      }
      return blocked;
    });
  }

  /** Detaches a day partition, keeps what must stay, drops it; returns the rows kept. */
  private Future<Long> drop(SqlConnection conn, Table t, LocalDate day) {
    String partition = t.name() + "_p" + DAY.format(day);
    long[] kept = {0};
    return inTransaction(conn, () -> conn.query("ALTER TABLE " + t.name() + " DETACH PARTITION " + partition).execute()
        .compose(v -> conn.preparedQuery(MOVE_BOUND).execute(Tuple.of(t.name(), t.prefix(), day)))
        .compose(v -> t.keep() == null ? Future.succeededFuture(0L)
            : conn.preparedQuery(String.format(t.keep(), partition))
                .execute(Tuple.of(bound(t, day), bound(t, day.plusDays(1)))).map(rows -> (long) rows.rowCount()))
        .compose(n -> {
          kept[0] = n;
          return t != DELIVERIES ? Future.succeededFuture()
              : conn.preparedQuery(String.format(DROP_ORPHAN_ATTEMPTS, partition))
                  .execute(Tuple.of(bound(t, day), bound(t, day.plusDays(1)))).mapEmpty();
        })
        .compose(v -> conn.query("DROP TABLE " + partition).execute())
        .map(v -> kept[0]))
        .onSuccess(n -> {
          metrics.partitionDropped(t.name(), n);
          LOG.info("retention: dropped {} ({} rows kept in {}_default)", partition, n, t.name());
        });
  }

  /** Runs a bounded DELETE ($1 the retention in seconds, $2 the batch) until it finds less than a batch or time is up. */
  private Future<Long> forget(SqlConnection conn, String sql, String table, Duration keep, long until) {
    if (System.nanoTime() - until > 0) {
      return Future.succeededFuture(0L);
    }
    return conn.preparedQuery(sql).execute(Tuple.of(keep.toSeconds(), BATCH)).compose(rows -> {
      long n = rows.rowCount();
      if (n > 0) {
        metrics.rowsAgedOut(table, n);
      }
      return n < BATCH ? Future.succeededFuture(n) : forget(conn, sql, table, keep, until).map(more -> n + more);
    });
  }

  /** Sets gateway_partitions_ahead from the partitions that exist. */
  private Future<Void> gauges(SqlConnection conn) {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<Supplier<Future<Void>>> steps = new ArrayList<>();
    for (Table t : TABLES) {
      steps.add(() -> days(conn, t).map(days -> {
        long ahead = 0;
        while (days.contains(today.plusDays(ahead + 1))) {
          ahead++;
        }
        metrics.partitionsAhead(t.name(), ahead);
        return null;
      }));
    }
    return sequence(steps);
  }

  /** The lowest id of a UTC day (id_day_bound in SQL). */
  static String bound(Table t, LocalDate day) {
    long ms = day.atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
    return Ids.timeOrdered(t.prefix(), ms).substring(0, t.prefix().length() + 11);
  }

  // Lock waits are bounded: a detach waits for the transactions using the table, and every insert would
  // queue behind a detach that waited long. A run that gives up does the work an hour later.
  private static <T> Future<T> inTransaction(SqlConnection conn, Supplier<Future<T>> work) {
    return conn.begin().compose(tx -> conn.query("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'").execute()
        .compose(v -> work.get())
        .compose(result -> tx.commit().map(result), e -> tx.rollback().transform(r -> Future.failedFuture(e))));
  }

  private static Future<Void> sequence(List<Supplier<Future<Void>>> steps) {
    Future<Void> chain = Future.succeededFuture();
    for (Supplier<Future<Void>> step : steps) {
      chain = chain.compose(v -> step.get());
    }
    return chain;
  }
}
