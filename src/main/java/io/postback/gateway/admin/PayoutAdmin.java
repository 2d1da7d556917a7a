package io.postback.gateway.admin;

import io.postback.gateway.events.Event.PayoutChanged;
import io.postback.gateway.events.EventOutbox;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code /admin/payouts}: initiate a payout, then mark it completed or failed. Every change writes its
 * payout.* event in the same transaction as the row, so no payout changes without its webhook.
 */
public final class PayoutAdmin {
  private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");
  private static final String COLUMNS = "id, affiliate_id, amount_minor, currency, status, reference, failure_reason, "
      + "created_at, updated_at";
  private static final String INSERT = "INSERT INTO payouts (id, affiliate_id, amount_minor, currency, reference) "
      + "VALUES ($1, $2, $3, $4, $5) RETURNING " + COLUMNS;
  private static final String PAGE = "SELECT " + COLUMNS + " FROM payouts "
      + "WHERE ($1::text IS NULL OR affiliate_id = $1) AND ($2::text IS NULL OR status = $2) "
      + "AND ($3::text IS NULL OR id < $3) ORDER BY id DESC LIMIT $4";
  private static final String AFFILIATE_EXISTS = "SELECT 1 FROM affiliates WHERE id = $1";
  private static final Set<String> STATUSES = Set.of("initiated", "completed", "failed");
  private static final String FIND = "SELECT " + COLUMNS + " FROM payouts WHERE id = $1";
  private static final String SETTLE = "UPDATE payouts SET status = $2, failure_reason = $3, updated_at = now() "
      + "WHERE id = $1 AND status = 'initiated' RETURNING " + COLUMNS;

  private final Pool pool;

  public PayoutAdmin(Pool pool) {
    this.pool = pool;
  }

  public void mount(Router admin) {
    admin.post("/payouts").handler(ctx -> AdminJson.respond(ctx, 201, this::create));
    admin.get("/payouts").handler(ctx -> AdminJson.respond(ctx, 200, this::list));
    admin.get("/payouts/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::get));
    admin.patch("/payouts/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::settle));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String affiliateId = AdminJson.requiredString(body, "affiliateId", 128);
    Long amount = AdminJson.optionalLong(body, "amountMinor", 1, Long.MAX_VALUE);
    if (amount == null) {
      throw ApiError.invalidField("amountMinor", "amountMinor is required (a positive integer in minor units)");
    }
    String currency = AdminJson.requiredString(body, "currency", 3);
    if (!CURRENCY.matcher(currency).matches()) {
      throw ApiError.invalidField("currency", "currency must be an ISO 4217 code such as USD");
    }
    String reference = AdminJson.optionalString(body, "reference", 200);
    // A payout to nobody would emit payout.* events no affiliate receiver can ever match.
    return pool.withTransaction(tx -> tx.preparedQuery(AFFILIATE_EXISTS).execute(Tuple.of(affiliateId))
        .compose(found -> {
          if (found.size() == 0) {
            throw ApiError.of(404, "unknown_affiliate", "No affiliate with id " + affiliateId, "affiliateId");
          }
          return tx.preparedQuery(INSERT).execute(Tuple.of(Ids.timeOrdered("po"), affiliateId, amount, currency, reference));
        })
        .compose(rows -> {
          JsonObject payout = toJson(rows.iterator().next());
          return EventOutbox.append(tx, event(PayoutChanged.INITIATED, payout)).map(payout);
        }));
  }

  /** {@code GET /admin/payouts?affiliateId=&status=&limit=&cursor=}: newest first. */
  private Future<JsonObject> list(RoutingContext ctx) {
    String status = AdminJson.query(ctx, "status", 16);
    if (status != null && !STATUSES.contains(status)) {
      throw ApiError.invalidField("status", "status must be initiated, completed or failed");
    }
    int limit = AdminJson.limit(ctx);
    return pool.preparedQuery(PAGE)
        .execute(Tuple.of(AdminJson.query(ctx, "affiliateId", 128), status, AdminJson.query(ctx, "cursor", 64), limit))
        .map(rows -> {
          List<JsonObject> page = new ArrayList<>(rows.size());
          rows.forEach(r -> page.add(toJson(r)));
          return AdminJson.page(page, limit, p -> p, p -> p.getString("id"));
        });
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("id"))).map(rows -> {
      if (rows.size() == 0) {
        throw ApiError.notFound("Payout " + ctx.pathParam("id"));
      }
      return toJson(rows.iterator().next());
    });
  }

  private Future<JsonObject> settle(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String status = AdminJson.requiredString(body, "status", 20);
    if (!status.equals("completed") && !status.equals("failed")) {
      throw ApiError.invalidField("status", "status must be completed or failed");
    }
    String reason = AdminJson.optionalString(body, "failureReason", 500);
    String id = ctx.pathParam("id");
    return pool.withTransaction(tx -> tx.preparedQuery(SETTLE).execute(Tuple.of(id, status, reason))
        .compose(rows -> {
          if (rows.size() == 0) {
            return tx.preparedQuery(FIND).execute(Tuple.of(id)).map(found -> {
              if (found.size() == 0) {
                throw ApiError.notFound("Payout " + id);
              }
              throw ApiError.of(409, "payout_settled", "Payout " + id + " is already "
                  + found.iterator().next().getString("status"));
            });
          }
          JsonObject payout = toJson(rows.iterator().next());
          return EventOutbox.append(tx, event("payout." + status, payout)).map(payout);
        }));
  }

  /** The payout event carries the payout as this API shows it. */
  private static PayoutChanged event(String type, JsonObject p) {
    return new PayoutChanged(type, p.getString("id"), p.getString("affiliateId"), p.getLong("amountMinor"),
        p.getString("currency"), p.getString("status"), p.getString("reference"), p.getString("failureReason"),
        p.getString("createdAt"), p.getString("updatedAt"));
  }

  private static JsonObject toJson(Row r) {
    return new JsonObject()
        .put("id", r.getString("id"))
        .put("affiliateId", r.getString("affiliate_id"))
        .put("amountMinor", r.getLong("amount_minor"))
        .put("currency", r.getString("currency"))
        .put("status", r.getString("status"))
        .put("reference", r.getString("reference"))
        .put("failureReason", r.getString("failure_reason"))
        .put("createdAt", r.getOffsetDateTime("created_at").toInstant().toString())
        .put("updatedAt", r.getOffsetDateTime("updated_at").toInstant().toString());
  }
}
