package io.postback.gateway.admin;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.store.ReadReplica;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code GET /admin/conversions?surfaceId=&externalId=&limit=&cursor=} or {@code ?id=<conversion id>}: look
 * conversions up, each with its commission entries. Without externalId it lists the surface's conversions, newest first,
 * paginated by id (ids are time-ordered).
 */
public final class ConversionAdmin {
  private static final String COLUMNS = "id, surface_id, external_id, event_type, gross_minor, currency, "
      + "occurred_at, received_at, click_id, promo_code, refund_of, metadata::text AS metadata, status, "
      + "affiliate_id, commission_minor, commission_currency, fraud_reason, approval";
  private static final String BY_EXTERNAL_ID =
      "SELECT " + COLUMNS + " FROM conversions WHERE surface_id = $1 AND external_id = $2";
  private static final String BY_ID = "SELECT " + COLUMNS + " FROM conversions WHERE id = $1";
  private static final String PAGE = "SELECT " + COLUMNS + " FROM conversions "
      + "WHERE surface_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3";

  // The ledger entries of the listed conversions: their commission and the reversals of their refunds.
  private static final String ENTRIES = "SELECT id, kind, conversion_id, refund_conversion_id, affiliate_id, amount_minor, "
      + "currency, created_at FROM commissions WHERE conversion_id = ANY($1) ORDER BY created_at, id";

  private final Pool pool;
  private final ReadReplica reads;

  public ConversionAdmin(Pool pool, ReadReplica reads) {
    this.pool = pool;
    this.reads = reads;
  }

  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "listConversions", 200, this::list);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    String id = ctx.queryParams().get("id");
    String surfaceId = ctx.queryParams().get("surfaceId");
    if (id == null && surfaceId == null) {
      throw ApiError.invalidField("surfaceId", "surfaceId is required (or id, a conversion id)");
    }
    String externalId = ctx.queryParams().get("externalId");
    int limit = AdminJson.limit(ctx);
    String cursor = ctx.queryParams().get("cursor");
    // A look-up of one conversion (often right after its postback) sees its own write: primary. Pages may lag.
    return id != null || externalId != null ? list(pool, id, surfaceId, externalId, null, limit)
        : reads.read(db -> list(db, null, surfaceId, null, cursor, limit));
  }

  private static Future<JsonObject> list(SqlClient db, String id, String surfaceId, String externalId, String cursor,
                                         int limit) {
    boolean one = id != null || externalId != null;
    Future<io.vertx.sqlclient.RowSet<Row>> rows = id != null
        ? db.preparedQuery(BY_ID).execute(Tuple.of(id))
        : externalId != null
        ? db.preparedQuery(BY_EXTERNAL_ID).execute(Tuple.of(surfaceId, externalId))
        : db.preparedQuery(PAGE).execute(Tuple.of(surfaceId, cursor, limit));
    return rows.compose(set -> {
      JsonArray items = new JsonArray();
      Map<String, JsonArray> entriesById = new HashMap<>();
      String last = null;
      for (Row r : set) {
        JsonArray entries = new JsonArray();
        entriesById.put(r.getString("id"), entries);
        items.add(toJson(r).put("commissionEntries", entries));
        last = r.getString("id");
      }
      JsonObject page = new JsonObject().put("items", items);
      page.put("nextCursor", !one && set.size() == limit ? last : null);
      if (entriesById.isEmpty()) {
        return Future.succeededFuture(page);
      }
      return db.preparedQuery(ENTRIES).execute(Tuple.of(entriesById.keySet().toArray(new String[0]))).map(entries -> {
        for (Row e : entries) {
          entriesById.get(e.getString("conversion_id")).add(new JsonObject()
              .put("id", e.getString("id"))
              .put("kind", e.getString("kind"))
              .put("refundConversionId", e.getString("refund_conversion_id"))
              .put("affiliateId", e.getString("affiliate_id"))
              .put("amountMinor", e.getLong("amount_minor"))
              .put("currency", e.getString("currency"))
              .put("createdAt", e.getOffsetDateTime("created_at").toInstant().toString()));
        }
        return page;
      });
    });
  }

  static JsonObject toJson(Row r) {
    String metadata = r.getString("metadata");
    return new JsonObject()
        .put("id", r.getString("id"))
        .put("surfaceId", r.getString("surface_id"))
        .put("externalId", r.getString("external_id"))
        .put("eventType", r.getString("event_type"))
        .put("grossMinor", r.getLong("gross_minor"))
        .put("currency", r.getString("currency"))
        .put("occurredAt", r.getOffsetDateTime("occurred_at").toInstant().toString())
        .put("receivedAt", r.getOffsetDateTime("received_at").toInstant().toString())
        .put("clickId", r.getString("click_id"))
        .put("promoCode", r.getString("promo_code"))
        .put("refundOf", r.getString("refund_of"))
        .put("metadata", metadata == null ? null : new JsonObject(metadata))
        .put("status", r.getString("status"))
        .put("affiliateId", r.getString("affiliate_id"))
        .put("commissionMinor", r.getLong("commission_minor"))
        .put("commissionCurrency", r.getString("commission_currency"))
        .put("fraudReason", r.getString("fraud_reason"))
        .put("approval", r.getString("approval"));
  }
}
