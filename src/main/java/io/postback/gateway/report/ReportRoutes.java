package io.postback.gateway.report;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * {@code POST /v1/reports/attribution} (202 with the report id; generated in the background by
 * {@link ReportGenerator}) and {@code GET /v1/reports/{id}} (progress). Mounted behind the admin
 * bearer token: a report exports every attributed conversion of the window.
 */
public final class ReportRoutes {
  public static final long MAX_DAYS = 180;
  // A campaign is a surface: a report for one that does not exist is refused rather than run empty.
  private static final String INSERT = "INSERT INTO attribution_reports (id, start_date, end_date, campaign_id) "
      + "SELECT $1, $2, $3, $4 WHERE $4::text IS NULL OR EXISTS (SELECT 1 FROM surfaces WHERE id = $4)";
  private static final String FIND = "SELECT id, start_date, end_date, campaign_id, status, total_matches, "
      + "total_batches, batches_emitted, error, created_at, updated_at FROM attribution_reports WHERE id = $1";

  private final Pool pool;

  public ReportRoutes(Pool pool) {
    this.pool = pool;
  }

  public void mount(Router reports) {
    reports.post("/attribution").handler(ctx -> AdminJson.respond(ctx, 202, this::create));
    reports.get("/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::get));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    LocalDate start = date(body, "start_date");
    LocalDate end = date(body, "end_date");
    if (end.isBefore(start)) {
      throw ApiError.invalidField("end_date", "end_date must not be before start_date");
    }
    if (ChronoUnit.DAYS.between(start, end) > MAX_DAYS) {
      throw ApiError.invalidField("end_date", "start_date and end_date may be at most " + MAX_DAYS + " days apart");
    }
    String campaign = AdminJson.optionalString(body, "campaign_id", 64);
    String id = Ids.timeOrdered("rpt");
    return pool.preparedQuery(INSERT).execute(Tuple.of(id, start, end, campaign))
        .map(rows -> {
          if (rows.rowCount() == 0) {
            throw ApiError.of(404, "unknown_campaign", "No campaign (surface) with id " + campaign, "campaign_id");
          }
          return new JsonObject().put("id", id).put("status", "created");
        });
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("id"))).map(rows -> {
      if (rows.size() == 0) {
        throw ApiError.notFound("Report " + ctx.pathParam("id"));
      }
      Row r = rows.iterator().next();
      return new JsonObject()
          .put("id", r.getString("id"))
          .put("status", r.getString("status"))
          .put("start_date", r.getLocalDate("start_date").toString())
          .put("end_date", r.getLocalDate("end_date").toString())
          .put("campaign_id", r.getString("campaign_id"))
          .put("total_matches", r.getInteger("total_matches"))
          .put("total_batches", r.getInteger("total_batches"))
          .put("batches_emitted", r.getInteger("batches_emitted"))
          .put("error", r.getString("error"))
          .put("created_at", r.getOffsetDateTime("created_at").toInstant().toString())
          .put("updated_at", r.getOffsetDateTime("updated_at").toInstant().toString());
    });
  }

  private static LocalDate date(JsonObject body, String field) {
    String raw = AdminJson.requiredString(body, field, 10);
    try {
      return LocalDate.parse(raw);
    } catch (DateTimeParseException e) {
      throw ApiError.invalidField(field, field + " must be a date such as 2026-01-31");
    }
  }
}
