package io.postback.gateway.report;

import io.postback.gateway.events.Event.ReportBatch;
import io.postback.gateway.events.EventOutbox;
import io.postback.gateway.ids.Ids;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * Generates attribution reports (SPEC §6) in the background. A report is leased from Postgres (so one
 * instance works on it, and another takes over if that one dies), its matches are read with a
 * server-side cursor inside one REPEATABLE READ snapshot (100 rows in memory at a time, and the count
 * agrees with the rows), and each batch becomes a {@code report.attribution} event in the outbox, from
 * where the ordinary signed, retried delivery takes it. Batch event ids are derived from the report
 * id and the batch index, so a report restarted after a crash never emits a batch twice.
 */
public final class ReportGenerator {
  private static final Logger LOG = LoggerFactory.getLogger(ReportGenerator.class);
  public static final int BATCH = 100;
  private static final String LEASE = """
      UPDATE attribution_reports SET status = 'running', lease_until = now() + interval '5 minutes', updated_at = now()
       WHERE id = (SELECT id FROM attribution_reports
                    WHERE status = 'created' OR (status = 'running' AND lease_until < now())
                    ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id, start_date, end_date, campaign_id
      """;
  private static final String WHERE = """
       FROM conversions
      WHERE occurred_at >= $1 AND occurred_at < $2 AND affiliate_id IS NOT NULL AND ($3::text IS NULL OR surface_id = $3)
      """;
  private static final String COUNT = "SELECT count(*)" + WHERE;
  private static final String MATCHES = """
      SELECT id, surface_id, external_id, event_type, occurred_at, gross_minor, currency, status, affiliate_id,
             click_id, promo_code, commission_minor, commission_currency, approval
      """ + WHERE + " ORDER BY occurred_at, id";
  private static final String TOTALS = """
      UPDATE attribution_reports SET total_matches = $2, total_batches = $3, updated_at = now() WHERE id = $1
      """;
  private static final String PROGRESS = """
      UPDATE attribution_reports SET batches_emitted = greatest(batches_emitted, $2),
             lease_until = now() + interval '5 minutes', updated_at = now() WHERE id = $1
      """;
  private static final String FINISH = """
      UPDATE attribution_reports SET status = $2, error = $3, lease_until = NULL, updated_at = now() WHERE id = $1
      """;

  private final Vertx vertx;
  private final Pool pool;
  private boolean running;
  private boolean stopped;

  public ReportGenerator(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  /** Takes the next open report, if any, and generates it. */
  public void run() {
    if (running || stopped) {
      return;
    }
    running = true;
    pool.preparedQuery(LEASE).execute()
        .compose(rows -> rows.size() == 0 ? Future.succeededFuture() : generate(rows.iterator().next()))
        .onComplete(ar -> {
          running = false;
          if (ar.failed()) {
            LOG.warn("report generation failed: {}", ar.cause().toString());
          }
        });
  }

  public Future<Void> stop() {
    stopped = true;
    return Future.succeededFuture();
  }

  private Future<Void> generate(Row report) {
    String id = report.getString("id");
    LocalDate start = report.getLocalDate("start_date");
    LocalDate end = report.getLocalDate("end_date");
    String campaign = report.getString("campaign_id");
    Tuple range = Tuple.of(OffsetDateTime.of(start.atStartOfDay(), ZoneOffset.UTC),
        OffsetDateTime.of(end.plusDays(1).atStartOfDay(), ZoneOffset.UTC), campaign);
    return pool.getConnection().compose(conn -> conn.begin()
        .compose(tx -> conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute()
            .compose(v -> conn.preparedQuery(COUNT).execute(range))
            .compose(counted -> {
              long total = counted.iterator().next().getLong(0);
              // An empty report still sends one (empty) batch, so the receiver learns it is complete.
              int batches = (int) Math.max(1, (total + BATCH - 1) / BATCH);
              return pool.preparedQuery(TOTALS).execute(Tuple.of(id, (int) total, batches))
                  .compose(v -> conn.prepare(MATCHES))
                  .compose(ps -> stream(id, campaign, start, end, batches, ps.cursor(range)));
            })
            .eventually(() -> tx.rollback()))
        .eventually(() -> conn.close()))
        .compose(v -> pool.preparedQuery(FINISH).execute(Tuple.of(id, "completed", null)).<Void>mapEmpty())
        .recover(e -> {
          if (stopped) {
            // Left running: when its lease expires another instance starts it over; the batch event ids
            // are deterministic, so batches already written are not written (or delivered) again.
            return Future.succeededFuture();
          }
          LOG.warn("attribution report {} failed: {}", id, e.toString());
          return pool.preparedQuery(FINISH).execute(Tuple.of(id, "failed", String.valueOf(e.getMessage()))).mapEmpty();
        });
  }

  private Future<Void> stream(String id, String campaign, LocalDate start, LocalDate end, int batches, Cursor cursor) {
    Promise<Void> done = Promise.promise();
    next(id, campaign, start, end, batches, cursor, 1, done);
    return done.future().eventually(() -> cursor.close());
  }

  private void next(String id, String campaign, LocalDate start, LocalDate end, int batches, Cursor cursor, int index,
                    Promise<Void> done) {
    if (stopped) {
      done.fail("stopping; the report's lease lets another instance finish it");
      return;
    }
    cursor.read(BATCH).compose(rows -> {
      JsonArray data = new JsonArray();
      for (Row r : rows) {
        data.add(new JsonObject()
            .put("conversion_id", r.getString("id"))
            .put("campaign_id", r.getString("surface_id"))
            .put("external_id", r.getString("external_id"))
            .put("event_type", r.getString("event_type"))
            .put("occurred_at", r.getOffsetDateTime("occurred_at").toInstant().toString())
            .put("gross_minor", r.getLong("gross_minor"))
            .put("currency", r.getString("currency"))
            .put("status", r.getString("status"))
            .put("approval", r.getString("approval"))
            .put("affiliate_id", r.getString("affiliate_id"))
            .put("click_id", r.getString("click_id"))
            .put("promo_code", r.getString("promo_code"))
            .put("commission_minor", r.getLong("commission_minor"))
            .put("commission_currency", r.getString("commission_currency")));
      }
      if (data.isEmpty() && index > 1) {
        return Future.succeededFuture(false);
      }
      ReportBatch batch = new ReportBatch(id, campaign, start.toString(), end.toString(), index, batches, data);
      String eventId = Ids.derived("evt", id, index);
      return pool.withTransaction(tx -> EventOutbox.appendOnce(tx, eventId, batch)
              .compose(v -> tx.preparedQuery(PROGRESS).execute(Tuple.of(id, index))))
          .map(v -> cursor.hasMore() && index < batches);
    }).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
      } else if (ar.result()) {
        vertx.runOnContext(v -> next(id, campaign, start, end, batches, cursor, index + 1, done));
      } else {
        done.complete();
      }
    });
  }
}
