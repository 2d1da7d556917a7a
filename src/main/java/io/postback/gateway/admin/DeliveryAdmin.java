package io.postback.gateway.admin;

import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DeliveryStore;
import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.store.ReadReplica;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * {@code /admin/deliveries}: the dead-letter (and pending, succeeded, skipped) listing, one delivery with
 * its attempts, and the replay of one delivery (a fresh retry schedule, due now). A skipped delivery is
 * one of an event that arrived while its endpoint was disabled: replaying it sends it.
 */
public final class DeliveryAdmin {
  private static final String COLUMNS = "d.id, d.event_id, e.type, d.endpoint_id, d.status, d.attempts, d.next_attempt_at, "
      + "d.last_status_code, d.last_error, d.created_at, d.updated_at";
  private static final String PAGE = "SELECT " + COLUMNS + " FROM deliveries d JOIN events e ON e.id = d.event_id "
      + "WHERE ($1::text IS NULL OR d.status = $1) AND ($2::text IS NULL OR d.endpoint_id = $2) AND ($3::text IS NULL OR d.id < $3) "
      + "ORDER BY d.id DESC LIMIT $4";
  private static final String FIND = "SELECT " + COLUMNS + " FROM deliveries d JOIN events e ON e.id = d.event_id "
      + "WHERE d.id = $1";
  private static final String ATTEMPTS = """
      SELECT a.id, a.delivery_id, d.event_id, a.attempt, a.attempted_at, a.outcome, a.status_code, a.latency_ms, a.error,
             a.response_body
        FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.delivery_id = $1 ORDER BY a.attempt
      """;

  private final Pool pool;
  private final ReadReplica reads;
  private final DeliveryQueue queue;

  public DeliveryAdmin(Pool pool, ReadReplica reads, DeliveryQueue queue) {
    this.pool = pool;
    this.reads = reads;
    this.queue = queue;
  }

  public void mount(RouterBuilder api) {
    mount(api, UnaryOperator.identity());
  }

  /** The operations under the ids {@code operationId} makes of the admin ones (the portal mounts them too). */
  public void mount(RouterBuilder api, UnaryOperator<String> operationId) {
    AdminJson.mount(api, operationId.apply("listDeliveries"), 200, this::list);
    AdminJson.mount(api, operationId.apply("getDelivery"), 200, this::get);
    AdminJson.mount(api, operationId.apply("replayDelivery"), 202, this::replay);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    String status = AdminJson.query(ctx, "status", 16);
    int limit = AdminJson.limit(ctx);
    Tuple args = Tuple.of(status, ctx.queryParams().get("endpointId"), ctx.queryParams().get("cursor"), limit);
    return reads.read(db -> db.preparedQuery(PAGE).execute(args))
        .map(rows -> {
          JsonArray items = new JsonArray();
          String last = null;
          for (Row r : rows) {
            items.add(toJson(r));
            last = r.getString("id");
          }
          return new JsonObject().put("items", items).put("nextCursor", rows.size() == limit ? last : null);
        });
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return pool.preparedQuery(FIND).execute(Tuple.of(id)).compose(rows -> {
      if (rows.size() == 0) {
        throw ApiError.notFound("Delivery " + id);
      }
      JsonObject delivery = toJson(rows.iterator().next());
      return pool.preparedQuery(ATTEMPTS).execute(Tuple.of(id)).map(attempts -> {
        JsonArray items = new JsonArray();
        attempts.forEach(a -> items.add(WebhookEndpointAdmin.attemptJson(a)));
        return delivery.put("attemptLog", items);
      });
    });
  }

  private Future<JsonObject> replay(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return DeliveryStore.replayDelivery(pool, id).compose(entry -> {
      if (entry == null) {
        return pool.preparedQuery(FIND).execute(Tuple.of(id)).map(found -> {
          if (found.size() == 0) {
            throw ApiError.notFound("Delivery " + id);
          }
          throw ApiError.of(409, "already_pending", "Delivery " + id + " is already pending");
        });
      }
      // If Redis is down, the reconciler schedules it from Postgres.
      return queue.schedule(List.of(entry)).otherwiseEmpty()
          .map(v -> new JsonObject().put("id", id).put("status", "pending"));
    });
  }

  private static JsonObject toJson(Row r) {
    OffsetDateTime next = r.getOffsetDateTime("next_attempt_at");
    return new JsonObject()
        .put("id", r.getString("id"))
        .put("eventId", r.getString("event_id"))
        .put("eventType", r.getString("type"))
        .put("endpointId", r.getString("endpoint_id"))
        .put("status", r.getString("status"))
        .put("attempts", r.getInteger("attempts"))
        .put("nextAttemptAt", "pending".equals(r.getString("status")) ? next.toInstant().toString() : null)
        .put("lastStatusCode", r.getInteger("last_status_code"))
        .put("lastError", r.getString("last_error"))
        .put("createdAt", r.getOffsetDateTime("created_at").toInstant().toString())
        .put("updatedAt", r.getOffsetDateTime("updated_at").toInstant().toString());
  }
}
