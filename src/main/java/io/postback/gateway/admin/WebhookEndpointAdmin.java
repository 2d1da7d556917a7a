package io.postback.gateway.admin;

import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DeliveryStore;
import io.postback.gateway.delivery.DestinationGuard;
import io.postback.gateway.delivery.WebhookSigner;
import io.postback.gateway.events.Event.EndpointTest;
import io.postback.gateway.events.EventOutbox;
import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * {@code /admin/webhook-endpoints}: register (answers the whsec_ secret once), read, list, update,
 * delete, rotate the secret, send a test event, the attempt log, health, and replay of dead and skipped
 * deliveries. An endpoint may be scoped to a surface and/or an affiliate ({@code surfaceId},
 * {@code affiliateId}); which events a scope receives is decided by the fan-out (DeliveryStore).
 */
public final class WebhookEndpointAdmin {
  private static final Pattern EVENT_TYPE = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*");
  public static final String COLUMNS = "id, url, description, event_types, surface_id, affiliate_id, enabled, "
      + "disabled_reason, timeout_ms, max_in_flight, failing_since, previous_secret_valid_until, created_at, updated_at";
  private static final String INSERT = "INSERT INTO webhook_endpoints (id, url, description, event_types, secret, "
      + "timeout_ms, max_in_flight, enabled, surface_id, affiliate_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
      + "RETURNING " + COLUMNS;
  private static final String SCOPE_EXISTS = "SELECT ($1::text IS NULL OR EXISTS (SELECT 1 FROM surfaces WHERE id = $1)) "
      + "AS surface, ($2::text IS NULL OR EXISTS (SELECT 1 FROM affiliates WHERE id = $2)) AS affiliate";
  // Affiliate postback templates share the table (kind affiliate_postback) and have their own API
  // (AffiliatePostbackAdmin): this one sees and changes webhook endpoints only.
  private static final String FIND = "SELECT " + COLUMNS + " FROM webhook_endpoints WHERE id = $1 AND kind = 'webhook'";
  private static final String PAGE = "SELECT " + COLUMNS + " FROM webhook_endpoints WHERE ($1::text IS NULL OR id > $1) "
      + "AND kind = 'webhook' ORDER BY id LIMIT $2";
  private static final String UPDATE = """
      UPDATE webhook_endpoints SET url = coalesce($2, url), description = coalesce($3, description),
             event_types = CASE WHEN $4 THEN $5 ELSE event_types END,
             timeout_ms = coalesce($6, timeout_ms), max_in_flight = coalesce($7, max_in_flight),
             enabled = coalesce($8, enabled),
             disabled_reason = CASE WHEN $8 IS NULL THEN disabled_reason WHEN $8 THEN NULL ELSE 'disabled by an operator' END,
             failing_since = CASE WHEN $8 THEN NULL ELSE failing_since END,
             surface_id = CASE WHEN $9 THEN $10 ELSE surface_id END,
             affiliate_id = CASE WHEN $11 THEN $12 ELSE affiliate_id END,
             updated_at = now()
       WHERE id = $1 AND kind = 'webhook' RETURNING\s""" + COLUMNS;
  private static final String THIS_KIND = "id = $1 AND kind = 'webhook'";
  private static final String ROTATE = """
      UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_valid_until = now() + make_interval(secs => $3),
             secret = $2, updated_at = now() WHERE id = $1 AND kind = 'webhook' RETURNING\s""" + COLUMNS;
  // The id is made as the fan-out makes it (delivery_id): in the event's day partition.
  private static final String TEST_DELIVERY = "INSERT INTO deliveries (id, event_id, endpoint_id) "
      + "VALUES (delivery_id($1, $2, now()), $1, $2) RETURNING id, next_attempt_at";
  private static final String ATTEMPTS = """
      SELECT a.id, a.delivery_id, d.event_id, a.attempt, a.attempted_at, a.outcome, a.status_code, a.latency_ms, a.error,
             a.response_body
        FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
       WHERE a.endpoint_id = $1 AND ($2::int8 IS NULL OR a.id < $2) ORDER BY a.id DESC LIMIT $3
      """;
  private static final String HEALTH = """
      WITH recent AS (
        SELECT outcome, latency_ms FROM delivery_attempts
         WHERE endpoint_id = $1 AND attempted_at > now() - interval '24 hours'
      )
      SELECT (SELECT count(*) FROM recent) AS attempts,
             (SELECT count(*) FROM recent WHERE outcome = 'success') AS successes,
             (SELECT avg(latency_ms) FROM recent) AS avg_latency,
             (SELECT count(*) FROM deliveries WHERE endpoint_id = $1 AND status = 'pending') AS pending,
             (SELECT count(*) FROM deliveries WHERE endpoint_id = $1 AND status = 'dead') AS dead,
             (SELECT count(*) FROM deliveries WHERE endpoint_id = $1 AND status = 'skipped') AS skipped,
             (SELECT json_build_object('attemptedAt', attempted_at, 'statusCode', status_code, 'error', error)::text FROM (
                SELECT attempted_at, status_code, error FROM delivery_attempts
                 WHERE endpoint_id = $1 AND outcome <> 'success' ORDER BY id DESC LIMIT 1) x) AS last_error
      """;

  private final Pool pool;
  private final DeliveryQueue queue;
  private final DestinationGuard guard;
  private final Duration defaultGrace;

  public WebhookEndpointAdmin(Pool pool, DeliveryQueue queue, DestinationGuard guard, Duration defaultGrace) {
    this.pool = pool;
    this.queue = queue;
    this.guard = guard;
    this.defaultGrace = defaultGrace;
  }

  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "createWebhookEndpoint", 201, ctx -> create(AdminJson.body(ctx)));
    AdminJson.mount(api, "listWebhookEndpoints", 200, this::list);
    mountOne(api, UnaryOperator.identity());
  }

  /**
   * The operations on one endpoint ({@code .../webhook-endpoints/{id}...}), under the operation ids that
   * {@code operationId} makes of the admin ones: the integrator portal mounts them behind its scope check.
   */
  public void mountOne(RouterBuilder api, UnaryOperator<String> operationId) {
    AdminJson.mount(api, operationId.apply("getWebhookEndpoint"), 200, this::get);
    AdminJson.mount(api, operationId.apply("updateWebhookEndpoint"), 200, this::update);
    AdminJson.mount(api, operationId.apply("deleteWebhookEndpoint"), 200, this::delete);
    AdminJson.mount(api, operationId.apply("rotateWebhookSecret"), 201, this::rotate);
    AdminJson.mount(api, operationId.apply("testWebhookEndpoint"), 202, this::test);
    AdminJson.mount(api, operationId.apply("listDeliveryAttempts"), 200, this::attempts);
    AdminJson.mount(api, operationId.apply("getWebhookEndpointHealth"), 200, this::health);
    AdminJson.mount(api, operationId.apply("replayWebhookEndpoint"), 202, this::replay);
  }

  /** Registers an endpoint from a request body; answers it with its secret, shown only this once. */
  public Future<JsonObject> create(JsonObject body) {
    String url = AdminJson.requiredString(body, "url");
    String description = AdminJson.optionalString(body, "description");
    String[] types = eventTypes(body);
    Integer timeout = timeoutMs(body);
    Integer maxInFlight = maxInFlight(body);
    Boolean enabled = body.getValue("enabled") instanceof Boolean b ? b : null;
    String surfaceId = AdminJson.optionalString(body, "surfaceId");
    String affiliateId = AdminJson.optionalString(body, "affiliateId");
    String secret = WebhookSigner.newSecret();
    return checkUrl(url)
        .compose(v -> checkScope(surfaceId, affiliateId))
        .compose(v -> pool.preparedQuery(INSERT).execute(Tuple.from(new Object[] {Ids.timeOrdered("whe"), url,
            description, types, secret, timeout, maxInFlight, enabled == null || enabled, surfaceId, affiliateId})))
        .map(rows -> toJson(rows.iterator().next()).put("secret", secret));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    int limit = AdminJson.limit(ctx);
    return pool.preparedQuery(PAGE).execute(Tuple.of(ctx.queryParams().get("cursor"), limit))
        .map(rows -> AdminJson.page(rows.stream().toList(), limit, WebhookEndpointAdmin::toJson, r -> r.getString("id")));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("id"))).map(rows -> toJson(one(ctx, rows)));
  }

  private Future<JsonObject> update(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String url = AdminJson.optionalString(body, "url");
    String description = AdminJson.optionalString(body, "description");
    boolean typesGiven = body.containsKey("eventTypes");
    String[] types = eventTypes(body);
    Integer timeout = timeoutMs(body);
    Integer maxInFlight = maxInFlight(body);
    Object enabledValue = body.getValue("enabled");
    if (enabledValue != null && !(enabledValue instanceof Boolean)) {
      throw ApiError.invalidField("enabled", "enabled must be true or false");
    }
    Boolean enabled = (Boolean) enabledValue;
    // Present with null clears that half of the scope; absent keeps it.
    boolean surfaceGiven = body.containsKey("surfaceId");
    String surfaceId = AdminJson.optionalString(body, "surfaceId");
    boolean affiliateGiven = body.containsKey("affiliateId");
    String affiliateId = AdminJson.optionalString(body, "affiliateId");
    Future<Void> checked = url == null ? Future.succeededFuture() : checkUrl(url);
    return checked.compose(v -> checkScope(surfaceId, affiliateId))
        .compose(v -> updateDestination(pool, UPDATE, Tuple.from(new Object[] {ctx.pathParam("id"), url, description,
                typesGiven, types, timeout, maxInFlight, enabled, surfaceGiven, surfaceId, affiliateGiven, affiliateId}),
            rows -> one(ctx, rows), enabled, "endpoint disabled by an operator"))
        .map(WebhookEndpointAdmin::toJson);
  }

  /**
   * Updates a destination (webhook endpoint or postback template) with {@code update}; when the update
   * disables it, its pending deliveries turn dead in the same transaction, so none is sent after the
   * operator's answer. {@code one} picks the updated row (404 when there is none).
   */
  static Future<Row> updateDestination(Pool pool, String update, Tuple args, Function<RowSet<Row>, Row> one,
                                       Boolean enabled, String disabledReason) {
    return pool.withTransaction(tx -> tx.preparedQuery(update).execute(args).compose(rows -> {
      Row row = one.apply(rows);
      Future<Void> killed = Boolean.FALSE.equals(enabled)
          ? DeliveryStore.killPending(tx, row.getString("id"), disabledReason)
          : Future.succeededFuture();
      return killed.map(row);
    }));
  }

  private Future<JsonObject> delete(RoutingContext ctx) {
    return deleteDestination(pool, THIS_KIND, Tuple.of(ctx.pathParam("id"))).map(found -> {
      if (!found) {
        throw ApiError.notFound("Webhook endpoint " + ctx.pathParam("id"));
      }
      return new JsonObject().put("id", ctx.pathParam("id")).put("deleted", true);
    });
  }

  /**
   * Deletes the destination that {@code where} selects (with {@code args}), webhook endpoint or affiliate
   * postback template; false when there is none. Its deliveries go with it (cascade) and their attempts (a
   * trigger), which on a long history takes a while, and the row stays locked meanwhile. The ingest
   * statement writes deliveries for the destinations subscribed at that moment, and each such insert's
   * foreign-key check would wait on that lock: every postback batch with a conversion for this destination
   * would stall for the whole deletion. So the destination is first unsubscribed from every event type, in
   * its own commit; a writer that read it before then finishes first (the DELETE waits for it), and no later
   * one touches it. Should the DELETE fail, the destination stays, subscribed to nothing, and deleting it
   * again finishes the job.
   */
  static Future<Boolean> deleteDestination(Pool pool, String where, Tuple args) {
    return pool.preparedQuery("UPDATE webhook_endpoints SET event_types = '{}', updated_at = now() WHERE " + where
            + " RETURNING id").execute(args)
        .compose(rows -> rows.rowCount() == 0 ? Future.succeededFuture(false)
            : pool.preparedQuery("DELETE FROM webhook_endpoints WHERE " + where).execute(args)
                .map(deleted -> deleted.rowCount() > 0));
  }

  private Future<JsonObject> rotate(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    Long graceSeconds = AdminJson.optionalLong(body, "graceSeconds");
    double grace = graceSeconds == null ? defaultGrace.toSeconds() : graceSeconds;
    String secret = WebhookSigner.newSecret();
    return pool.preparedQuery(ROTATE).execute(Tuple.of(ctx.pathParam("id"), secret, grace))
        .map(rows -> toJson(one(ctx, rows)).put("secret", secret));
  }

  private Future<JsonObject> test(RoutingContext ctx) {
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("id")))
        .compose(rows -> sendTest(pool, queue, one(ctx, rows).getString("id")));
  }

  /**
   * Writes an endpoint.test event with a delivery to this destination only (a webhook endpoint or an
   * affiliate postback template), and schedules it now.
   */
  static Future<JsonObject> sendTest(Pool pool, DeliveryQueue queue, String endpointId) {
    String eventId = EventOutbox.newEventId();
    EndpointTest event = new EndpointTest(endpointId, "This is a test event.");
    return pool.withTransaction(tx -> EventOutbox.appendAddressed(tx, eventId, event)
            .compose(v -> tx.preparedQuery(TEST_DELIVERY).execute(Tuple.of(eventId, endpointId))))
        .compose(rows -> {
          Row row = rows.iterator().next();
          String deliveryId = row.getString("id");
          return queue.schedule(List.of(new DeliveryQueue.Entry(deliveryId,
                  row.getOffsetDateTime("next_attempt_at").toInstant().toEpochMilli()))).otherwiseEmpty()
              .map(v -> new JsonObject().put("eventId", eventId).put("deliveryId", deliveryId));
        });
  }

  private Future<JsonObject> attempts(RoutingContext ctx) {
    // The endpoint first: an unknown id (or an affiliate postback template's, which has its own API) is a 404.
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("id")))
        .compose(found -> attempts(pool, one(ctx, found).getString("id"), ctx));
  }

  /**
   * A page ({@code ?cursor=&limit=}) of the attempt log of a destination (a webhook endpoint or an affiliate
   * postback template) known to exist, newest first.
   */
  static Future<JsonObject> attempts(Pool pool, String endpointId, RoutingContext ctx) {
    int limit = AdminJson.limit(ctx);
    Long cursor = cursor(ctx);
    return pool.preparedQuery(ATTEMPTS).execute(Tuple.of(endpointId, cursor, limit)).map(rows -> AdminJson.page(
        rows.stream().toList(), limit, WebhookEndpointAdmin::attemptJson, r -> String.valueOf(r.getLong("id"))));
  }

  static JsonObject attemptJson(Row r) {
    return new JsonObject()
        .put("deliveryId", r.getString("delivery_id"))
        .put("eventId", r.getString("event_id"))
        .put("attempt", r.getInteger("attempt"))
        .put("attemptedAt", r.getOffsetDateTime("attempted_at").toInstant().toString())
        .put("outcome", r.getString("outcome"))
        .put("statusCode", r.getInteger("status_code"))
        .put("latencyMs", r.getInteger("latency_ms"))
        .put("error", r.getString("error"))
        .put("responseBody", r.getString("response_body"));
  }

  private Future<JsonObject> health(RoutingContext ctx) {
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("id")))
        .compose(rows -> health(pool, one(ctx, rows)));
  }

  /** The health of a destination (a webhook endpoint or an affiliate postback template) whose row is {@code endpoint}. */
  static Future<JsonObject> health(Pool pool, Row endpoint) {
    String id = endpoint.getString("id");
    return pool.preparedQuery(HEALTH).execute(Tuple.of(id)).map(h -> {
      Row r = h.iterator().next();
      long attempts = r.getLong("attempts");
      long successes = r.getLong("successes");
      Object avg = r.getValue("avg_latency");
      String lastError = r.getString("last_error");
      return new JsonObject()
          .put("endpointId", id)
          .put("enabled", endpoint.getBoolean("enabled"))
          .put("disabledReason", endpoint.getString("disabled_reason"))
          .put("failingSince", instant(endpoint.getOffsetDateTime("failing_since")))
          .put("window", "24h")
          .put("attempts", attempts)
          .put("successes", successes)
          .put("successRate", attempts == 0 ? null : (double) successes / attempts)
          .put("averageLatencyMs", avg == null ? null : ((Number) avg).doubleValue())
          .put("pending", r.getLong("pending"))
          .put("dead", r.getLong("dead"))
          .put("skipped", r.getLong("skipped"))
          .put("lastError", lastError == null ? null : new JsonObject(lastError));
    });
  }

  /**
   * {@code ?since=<ISO-8601>}: every dead delivery of the endpoint that died since then, and every skipped one
   * (an event that arrived while it was disabled) recorded since then, starts a fresh schedule.
   */
  private Future<JsonObject> replay(RoutingContext ctx) {
    OffsetDateTime from = since(ctx);
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("id")))
        .compose(rows -> replay(pool, queue, one(ctx, rows).getString("id"), from));
  }

  /** {@code ?since=}, which the contract requires: an ISO-8601 instant, or a 400 naming it. */
  static OffsetDateTime since(RoutingContext ctx) {
    String since = ctx.queryParams().get("since");
    try {
      return OffsetDateTime.ofInstant(Instant.parse(since), ZoneOffset.UTC);
    } catch (DateTimeParseException | NullPointerException e) {
      throw ApiError.invalidField("since", "since must be an ISO-8601 instant such as 2026-01-31T00:00:00Z");
    }
  }

  /**
   * Replays a destination (a webhook endpoint or an affiliate postback template) known to exist: its dead and
   * skipped deliveries since {@code from} start a fresh schedule.
   */
  static Future<JsonObject> replay(Pool pool, DeliveryQueue queue, String endpointId, OffsetDateTime from) {
    return DeliveryStore.replayEndpoint(pool, endpointId, from)
        // If Redis is down the reconciler puts them on the schedule, from Postgres.
        .compose(entries -> queue.schedule(entries).otherwiseEmpty()
            .map(v -> new JsonObject().put("replayed", entries.size())));
  }

  private Future<Void> checkUrl(String url) {
    DestinationGuard.Destination dest;
    try {
      dest = DestinationGuard.parse(url);
    } catch (IllegalArgumentException e) {
      throw ApiError.invalidField("url", e.getMessage());
    }
    return guard.check(dest.host()).<Void>mapEmpty().recover(e -> Future.failedFuture(
        ApiError.of(422, "destination_refused", "The url is refused: " + e.getMessage())));
  }

  /** 400 naming the field when the scope names a surface or affiliate that does not exist. */
  private Future<Void> checkScope(String surfaceId, String affiliateId) {
    return checkScope(pool, surfaceId, affiliateId);
  }

  /**
   * Refuses a scope (of an endpoint, or of a portal link) that names a surface or an affiliate that does
   * not exist: 400 naming the field.
   */
  public static Future<Void> checkScope(Pool pool, String surfaceId, String affiliateId) {
    if (surfaceId == null && affiliateId == null) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery(SCOPE_EXISTS).execute(Tuple.of(surfaceId, affiliateId)).map(rows -> {
      Row r = rows.iterator().next();
      if (!r.getBoolean("surface")) {
        throw ApiError.invalidField("surfaceId", "surfaceId names no surface");
      }
      if (!r.getBoolean("affiliate")) {
        throw ApiError.invalidField("affiliateId", "affiliateId names no affiliate");
      }
      return null;
    });
  }

  private static String[] eventTypes(JsonObject body) {
    Object v = body.getValue("eventTypes");
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray arr) || arr.isEmpty() || arr.size() > 100) {
      throw ApiError.invalidField("eventTypes", "eventTypes must be a non-empty array of event types, or absent for all");
    }
    String[] out = new String[arr.size()];
    for (int i = 0; i < arr.size(); i++) {
      if (!(arr.getValue(i) instanceof String s) || s.length() > 100 || !EVENT_TYPE.matcher(s).matches()) {
        throw ApiError.invalidField("eventTypes", "eventTypes holds event types such as conversion.created");
      }
      out[i] = s;
    }
    return out;
  }

  private static Integer timeoutMs(JsonObject body) {
    Long v = AdminJson.optionalLong(body, "timeoutMs");
    return v == null ? null : v.intValue();
  }

  private static Integer maxInFlight(JsonObject body) {
    Long v = AdminJson.optionalLong(body, "maxInFlight");
    return v == null ? null : v.intValue();
  }

  private static Long cursor(RoutingContext ctx) {
    String raw = ctx.queryParams().get("cursor");
    if (raw == null) {
      return null;
    }
    try {
      return Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw ApiError.invalidField("cursor", "cursor must be a value from a previous page's nextCursor");
    }
  }

  private static Row one(RoutingContext ctx, RowSet<Row> rows) {
    if (rows.size() == 0) {
      throw ApiError.notFound("Webhook endpoint " + ctx.pathParam("id"));
    }
    return rows.iterator().next();
  }

  static String instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant().toString();
  }

  public static JsonObject toJson(Row r) {
    String[] types = r.getArrayOfStrings("event_types");
    return new JsonObject()
        .put("id", r.getString("id"))
        .put("url", r.getString("url"))
        .put("description", r.getString("description"))
        .put("eventTypes", types == null ? null : new JsonArray(List.of((Object[]) types)))
        .put("surfaceId", r.getString("surface_id"))
        .put("affiliateId", r.getString("affiliate_id"))
        .put("enabled", r.getBoolean("enabled"))
        .put("disabledReason", r.getString("disabled_reason"))
        .put("timeoutMs", r.getInteger("timeout_ms"))
        .put("maxInFlight", r.getInteger("max_in_flight"))
        .put("failingSince", instant(r.getOffsetDateTime("failing_since")))
        .put("previousSecretValidUntil", instant(r.getOffsetDateTime("previous_secret_valid_until")))
        .put("createdAt", instant(r.getOffsetDateTime("created_at")))
        .put("updatedAt", instant(r.getOffsetDateTime("updated_at")));
  }
}
