package io.postback.gateway.admin;

import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DestinationGuard;
import io.postback.gateway.delivery.PostbackTemplate;
import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * {@code /admin/affiliates/{id}/postbacks}: an affiliate's postback URL templates (SPEC §5.1,
 * docs/affiliate-postbacks.md). A template is a delivery destination of kind {@code affiliate_postback}
 * in webhook_endpoints, scoped to its affiliate (and optionally a surface), so the delivery queue sends,
 * retries, dead-letters and replays it like a webhook; this API checks the template when it is saved
 * (macros, URL, destination) so that nothing is discovered at send time.
 */
public final class AffiliatePostbackAdmin {
  private static final String KIND = "affiliate_postback";
  private static final List<String> DEFAULT_EVENTS = List.of("conversion.created");
  private static final String COLUMNS = "id, url, method, body_template, sign_query, description, event_types, "
      + "surface_id, affiliate_id, enabled, disabled_reason, timeout_ms, max_in_flight, failing_since, created_at, "
      + "updated_at";
  private static final String AFFILIATE_EXISTS = "SELECT EXISTS (SELECT 1 FROM affiliates WHERE id = $1) AS affiliate, "
      + "($2::text IS NULL OR EXISTS (SELECT 1 FROM surfaces WHERE id = $2)) AS surface";
  private static final String INSERT = "INSERT INTO webhook_endpoints (id, kind, url, method, body_template, sign_query, "
      + "description, event_types, secret, timeout_ms, max_in_flight, enabled, surface_id, affiliate_id) "
      + "VALUES ($1, '" + KIND + "', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING " + COLUMNS;
  private static final String FIND = "SELECT " + COLUMNS + " FROM webhook_endpoints "
      + "WHERE id = $1 AND affiliate_id = $2 AND kind = '" + KIND + "'";
  // A page of an affiliate's templates with each one's health over the last 24 h (as GET .../health): an
  // affiliate has a handful, and the console and the portal show them in one table. $4: only those that
  // send for this surface (its own and the unscoped ones), or all when null.
  private static final String PAGE = "SELECT " + COLUMNS + ", h.attempts, h.successes, x.last_error "
      + "FROM webhook_endpoints e "
      + "LEFT JOIN LATERAL (SELECT count(*) AS attempts, count(*) FILTER (WHERE outcome = 'success') AS successes "
      + "  FROM delivery_attempts a WHERE a.endpoint_id = e.id AND a.attempted_at > now() - interval '24 hours') h ON true "
      + "LEFT JOIN LATERAL (SELECT json_build_object('attemptedAt', attempted_at, 'statusCode', status_code, "
      + "  'error', error)::text AS last_error FROM delivery_attempts a WHERE a.endpoint_id = e.id "
      + "  AND a.outcome <> 'success' ORDER BY a.id DESC LIMIT 1) x ON true "
      + "WHERE e.affiliate_id = $1 AND e.kind = '" + KIND + "' AND ($2::text IS NULL OR e.id > $2) "
      + "AND ($4::text IS NULL OR e.surface_id IS NULL OR e.surface_id = $4) ORDER BY e.id LIMIT $3";
  private static final String UPDATE = """
      UPDATE webhook_endpoints SET url = $3, method = $4, body_template = $5, sign_query = $6,
             description = coalesce($7, description), event_types = $8,
             timeout_ms = coalesce($9, timeout_ms), max_in_flight = coalesce($10, max_in_flight),
             enabled = coalesce($11, enabled),
             disabled_reason = CASE WHEN $11 IS NULL THEN disabled_reason WHEN $11 THEN NULL ELSE 'disabled by an operator' END,
             failing_since = CASE WHEN $11 THEN NULL ELSE failing_since END,
             surface_id = $12, updated_at = now()
       WHERE id = $1 AND affiliate_id = $2 AND kind = 'affiliate_postback' RETURNING\s""" + COLUMNS;
  private static final String THIS_KIND = "id = $1 AND affiliate_id = $2 AND kind = '" + KIND + "'";

  private final Pool pool;
  private final DeliveryQueue queue;
  private final DestinationGuard guard;

  public AffiliatePostbackAdmin(Pool pool, DeliveryQueue queue, DestinationGuard guard) {
    this.pool = pool;
    this.queue = queue;
    this.guard = guard;
  }

  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "createAffiliatePostback", 201, this::create);
    AdminJson.mount(api, "listAffiliatePostbacks", 200, this::list);
    AdminJson.mount(api, "getAffiliatePostback", 200, this::get);
    AdminJson.mount(api, "updateAffiliatePostback", 200, this::update);
    AdminJson.mount(api, "deleteAffiliatePostback", 200, this::delete);
    AdminJson.mount(api, "testAffiliatePostback", 202, this::test);
    AdminJson.mount(api, "listAffiliatePostbackAttempts", 200, this::attempts);
    AdminJson.mount(api, "getAffiliatePostbackHealth", 200, this::health);
    AdminJson.mount(api, "replayAffiliatePostback", 202, this::replay);
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    String affiliateId = ctx.pathParam("id");
    JsonObject body = AdminJson.body(ctx);
    String url = AdminJson.requiredString(body, "url");
    String method = body.getString("method", "GET");
    String bodyTemplate = AdminJson.optionalString(body, "body");
    String[] types = eventTypes(body.getJsonArray("eventTypes"));
    boolean sign = Boolean.TRUE.equals(AdminJson.optionalBoolean(body, "signQuery"));
    String description = AdminJson.optionalString(body, "description");
    Long timeout = AdminJson.optionalLong(body, "timeoutMs");
    Long maxInFlight = AdminJson.optionalLong(body, "maxInFlight");
    Boolean enabled = AdminJson.optionalBoolean(body, "enabled");
    String surfaceId = AdminJson.optionalString(body, "surfaceId");
    PostbackTemplate template = template(url, method, bodyTemplate);
    String secret = Ids.secret("pbsec_", 32);
    return checkScope(affiliateId, surfaceId)
        .compose(v -> checkDestination(template))
        .compose(v -> pool.preparedQuery(INSERT).execute(Tuple.from(new Object[] {Ids.timeOrdered("apb"), url, method,
            bodyTemplate, sign, description, types, secret, timeout == null ? null : timeout.intValue(),
            maxInFlight == null ? null : maxInFlight.intValue(), enabled == null || enabled, surfaceId, affiliateId})))
        .map(rows -> toJson(rows.iterator().next()).put("secret", secret));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    String affiliateId = ctx.pathParam("id");
    return checkScope(affiliateId, null)
        .compose(v -> page(affiliateId, null, ctx.queryParams().get("cursor"), AdminJson.limit(ctx)));
  }

  /**
   * A page of the affiliate's templates, each with its {@code health} (24 h); with a {@code surfaceId}, only
   * those that fire for that surface. The admin list, and the integrator portal's view of its scope.
   */
  public Future<JsonObject> page(String affiliateId, String surfaceId, String cursor, int limit) {
    return pool.preparedQuery(PAGE).execute(Tuple.of(affiliateId, cursor, limit, surfaceId))
        .map(rows -> AdminJson.page(rows.stream().toList(), limit, AffiliatePostbackAdmin::withHealth,
            r -> r.getString("id")));
  }

  private static JsonObject withHealth(Row r) {
    long attempts = r.getLong("attempts");
    long successes = r.getLong("successes");
    String lastError = r.getString("last_error");
    return toJson(r).put("health", new JsonObject().put("window", "24h").put("attempts", attempts)
        .put("successes", successes).put("successRate", attempts == 0 ? null : (double) successes / attempts)
        .put("lastError", lastError == null ? null : new JsonObject(lastError)));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    return find(ctx).map(AffiliatePostbackAdmin::toJson);
  }

  /** Fields absent keep their value; the template as a whole (URL, method, body) is checked again. */
  private Future<JsonObject> update(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String newUrl = AdminJson.optionalString(body, "url");
    String newBody = AdminJson.optionalString(body, "body");
    String surfaceId = AdminJson.optionalString(body, "surfaceId");
    String description = AdminJson.optionalString(body, "description");
    Long timeout = AdminJson.optionalLong(body, "timeoutMs");
    Long maxInFlight = AdminJson.optionalLong(body, "maxInFlight");
    Boolean enabled = AdminJson.optionalBoolean(body, "enabled");
    Boolean sign = AdminJson.optionalBoolean(body, "signQuery");
    return find(ctx).compose(current -> {
      String url = newUrl != null ? newUrl : current.getString("url");
      String method = body.getString("method", current.getString("method"));
      String bodyTemplate = body.containsKey("body") ? newBody : current.getString("body_template");
      String[] types = body.containsKey("eventTypes") ? eventTypes(body.getJsonArray("eventTypes"))
          : current.getArrayOfStrings("event_types");
      String surface = body.containsKey("surfaceId") ? surfaceId : current.getString("surface_id");
      PostbackTemplate template = template(url, method, bodyTemplate);
      Future<Void> checked = newUrl == null ? Future.succeededFuture() : checkDestination(template);
      return checked.compose(v -> checkScope(ctx.pathParam("id"), surface))
          .compose(v -> WebhookEndpointAdmin.updateDestination(pool, UPDATE, Tuple.from(new Object[] {
                  ctx.pathParam("postbackId"), ctx.pathParam("id"), url, method, bodyTemplate,
                  sign != null ? sign : current.getBoolean("sign_query"), description, types,
                  timeout == null ? null : timeout.intValue(), maxInFlight == null ? null : maxInFlight.intValue(),
                  enabled, surface}),
              rows -> one(ctx, rows), enabled, "postback template disabled by an operator"))
          .map(AffiliatePostbackAdmin::toJson);
    });
  }

  private Future<JsonObject> delete(RoutingContext ctx) {
    return WebhookEndpointAdmin.deleteDestination(pool, THIS_KIND, Tuple.of(ctx.pathParam("postbackId"), ctx.pathParam("id")))
        .map(found -> {
          if (!found) {
            throw notFound(ctx);
          }
          return new JsonObject().put("id", ctx.pathParam("postbackId")).put("deleted", true);
        });
  }

  private Future<JsonObject> test(RoutingContext ctx) {
    return find(ctx).compose(row -> WebhookEndpointAdmin.sendTest(pool, queue, row.getString("id")));
  }

  private Future<JsonObject> attempts(RoutingContext ctx) {
    return find(ctx).compose(row -> WebhookEndpointAdmin.attempts(pool, row.getString("id"), ctx));
  }

  private Future<JsonObject> health(RoutingContext ctx) {
    return find(ctx).compose(row -> WebhookEndpointAdmin.health(pool, row));
  }

  private Future<JsonObject> replay(RoutingContext ctx) {
    OffsetDateTime from = WebhookEndpointAdmin.since(ctx);
    return find(ctx).compose(row -> WebhookEndpointAdmin.replay(pool, queue, row.getString("id"), from));
  }

  private Future<Row> find(RoutingContext ctx) {
    return pool.preparedQuery(FIND).execute(Tuple.of(ctx.pathParam("postbackId"), ctx.pathParam("id")))
        .map(rows -> one(ctx, rows));
  }

  /** The parsed template, or a 400 naming the field at fault (an unknown macro, a macro in the host, ...). */
  private static PostbackTemplate template(String url, String method, String body) {
    try {
      return PostbackTemplate.parse(url, method, body);
    } catch (PostbackTemplate.InvalidTemplate e) {
      throw ApiError.invalidField(e.field(), e.getMessage());
    }
  }

  /** 422 when the template's host resolves to an address the gateway will not call (SSRF), as for webhooks. */
  private Future<Void> checkDestination(PostbackTemplate template) {
    return guard.check(template.destination().host()).<Void>mapEmpty().recover(e -> Future.failedFuture(
        ApiError.of(422, "destination_refused", "The url is refused: " + e.getMessage())));
  }

  /** 404 for an unknown affiliate (the resource in the path); 400 naming surfaceId for an unknown surface. */
  private Future<Void> checkScope(String affiliateId, String surfaceId) {
    return pool.preparedQuery(AFFILIATE_EXISTS).execute(Tuple.of(affiliateId, surfaceId)).map(rows -> {
      Row r = rows.iterator().next();
      if (!r.getBoolean("affiliate")) {
        throw ApiError.notFound("Affiliate " + affiliateId);
      }
      if (!r.getBoolean("surface")) {
        throw ApiError.invalidField("surfaceId", "surfaceId names no surface");
      }
      return null;
    });
  }

  /** The event types (the contract allows only the four conversion events, without repeats); absent: the default. */
  private static String[] eventTypes(JsonArray given) {
    List<?> types = given == null ? DEFAULT_EVENTS : given.getList();
    return types.stream().map(String::valueOf).toArray(String[]::new);
  }

  private static Row one(RoutingContext ctx, RowSet<Row> rows) {
    if (rows.size() == 0) {
      throw notFound(ctx);
    }
    return rows.iterator().next();
  }

  private static ApiError notFound(RoutingContext ctx) {
    return ApiError.notFound("Postback template " + ctx.pathParam("postbackId") + " of affiliate " + ctx.pathParam("id"));
  }

  static JsonObject toJson(Row r) {
    String method = r.getString("method");
    String body = r.getString("body_template");
    PostbackTemplate template = PostbackTemplate.parse(r.getString("url"), method, body);
    return new JsonObject()
        .put("id", r.getString("id"))
        .put("affiliateId", r.getString("affiliate_id"))
        .put("surfaceId", r.getString("surface_id"))
        .put("url", r.getString("url"))
        .put("method", method)
        .put("body", body)
        .put("eventTypes", new JsonArray(List.of((Object[]) r.getArrayOfStrings("event_types"))))
        .put("signQuery", r.getBoolean("sign_query"))
        .put("macros", new JsonArray(template.macros()))
        .put("description", r.getString("description"))
        .put("enabled", r.getBoolean("enabled"))
        .put("disabledReason", r.getString("disabled_reason"))
        .put("timeoutMs", r.getInteger("timeout_ms"))
        .put("maxInFlight", r.getInteger("max_in_flight"))
        .put("failingSince", WebhookEndpointAdmin.instant(r.getOffsetDateTime("failing_since")))
        .put("createdAt", WebhookEndpointAdmin.instant(r.getOffsetDateTime("created_at")))
        .put("updatedAt", WebhookEndpointAdmin.instant(r.getOffsetDateTime("updated_at")));
  }
}
