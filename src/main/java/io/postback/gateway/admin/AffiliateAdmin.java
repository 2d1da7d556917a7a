package io.postback.gateway.admin;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.program.Affiliate;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.program.ProgramStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code /admin/affiliates}: create (status pending unless said otherwise), read, change name or status
 * (each status change emits its event), and the affiliate's commission ledger with its balance.
 */
public final class AffiliateAdmin {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Set<String> STATUSES = Set.of(Affiliate.PENDING, Affiliate.ACTIVE, Affiliate.SUSPENDED);
  private static final String LEDGER = "SELECT id, kind, conversion_id, refund_conversion_id, surface_id, amount_minor, "
      + "currency, created_at FROM commissions WHERE affiliate_id = $1 ORDER BY created_at, id LIMIT $2";
  private static final String BALANCE = "SELECT currency, SUM(amount_minor) AS owed FROM commissions "
      + "WHERE affiliate_id = $1 GROUP BY currency ORDER BY currency";

  private final ProgramStore store;
  private final ProgramCatalog catalog;
  private final Pool pool;

  public AffiliateAdmin(ProgramStore store, ProgramCatalog catalog, Pool pool) {
    this.store = store;
    this.catalog = catalog;
    this.pool = pool;
  }

  public void mount(Router admin) {
    admin.post("/affiliates").handler(ctx -> AdminJson.respond(ctx, 201, this::create));
    admin.get("/affiliates").handler(ctx -> AdminJson.respond(ctx, 200, this::list));
    admin.get("/affiliates/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::get));
    admin.patch("/affiliates/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::update));
    admin.get("/affiliates/:id/commissions").handler(ctx -> AdminJson.respond(ctx, 200, this::ledger));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String id = AdminJson.optionalString(body, "id", 64);
    if (id != null && !ID.matcher(id).matches()) {
      throw ApiError.invalidField("id", "id may hold letters, digits, '_' and '-' (at most 64)");
    }
    String name = AdminJson.requiredString(body, "name", 200);
    String status = status(body);
    String affiliateId = id != null ? id : Ids.timeOrdered("aff");
    return store.insertAffiliate(affiliateId, name, status != null ? status : Affiliate.PENDING).map(created -> {
      if (created == null) {
        throw ApiError.of(409, "conflict", "An affiliate with id " + affiliateId + " already exists");
      }
      catalog.put(created);
      return created.toJson();
    });
  }

  /** {@code GET /admin/affiliates?status=&q=&limit=&cursor=}: ordered by id; {@code q} matches id or name. */
  private Future<JsonObject> list(RoutingContext ctx) {
    String status = AdminJson.query(ctx, "status", 16);
    if (status != null && !STATUSES.contains(status)) {
      throw ApiError.invalidField("status", "status must be pending, active or suspended");
    }
    int limit = AdminJson.limit(ctx);
    return store.affiliatesPage(status, AdminJson.query(ctx, "q", 200), AdminJson.query(ctx, "cursor", 64), limit)
        .map(page -> AdminJson.page(page, limit, Affiliate::toJson, Affiliate::id));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    return store.findAffiliate(ctx.pathParam("id")).map(a -> {
      if (a == null) {
        throw ApiError.notFound("Affiliate " + ctx.pathParam("id"));
      }
      return a.toJson();
    });
  }

  private Future<JsonObject> update(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String name = AdminJson.optionalString(body, "name", 200);
    String status = status(body);
    return store.updateAffiliate(ctx.pathParam("id"), name, status).map(a -> {
      if (a == null) {
        throw ApiError.notFound("Affiliate " + ctx.pathParam("id"));
      }
      catalog.put(a);
      return a.toJson();
    });
  }

  /** The ledger entries (commissions and reversals) and what the affiliate is owed per currency. */
  private Future<JsonObject> ledger(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    int limit = AdminJson.limit(ctx);
    Future<JsonArray> entries = pool.preparedQuery(LEDGER).execute(Tuple.of(id, limit)).map(rows -> {
      JsonArray out = new JsonArray();
      for (Row r : rows) {
        out.add(new JsonObject()
            .put("id", r.getString("id"))
            .put("kind", r.getString("kind"))
            .put("conversionId", r.getString("conversion_id"))
            .put("refundConversionId", r.getString("refund_conversion_id"))
            .put("surfaceId", r.getString("surface_id"))
            .put("amountMinor", r.getLong("amount_minor"))
            .put("currency", r.getString("currency"))
            .put("createdAt", r.getOffsetDateTime("created_at").toInstant().toString()));
      }
      return out;
    });
    Future<JsonObject> balance = pool.preparedQuery(BALANCE).execute(Tuple.of(id)).map(rows -> {
      JsonObject out = new JsonObject();
      rows.forEach(r -> out.put(r.getString("currency"), r.getLong("owed")));
      return out;
    });
    return Future.all(entries, balance).map(all -> new JsonObject()
        .put("affiliateId", id)
        .put("owedMinor", balance.result())
        .put("entries", entries.result()));
  }

  private static String status(JsonObject body) {
    String status = AdminJson.optionalString(body, "status", 16);
    if (status != null && !STATUSES.contains(status)) {
      throw ApiError.invalidField("status", "status must be pending, active or suspended");
    }
    return status;
  }
}
