package io.postback.gateway.portal;

import io.postback.gateway.admin.AffiliatePostbackAdmin;
import io.postback.gateway.admin.DeliveryAdmin;
import io.postback.gateway.admin.PostbackLogAdmin;
import io.postback.gateway.admin.WebhookEndpointAdmin;
import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * {@code /portal/api/*}: what an integrator holding a portal link may do, all within the link's scope. Every
 * operation is in the OpenAPI document (operation ids {@code portal...}), so the contract validates it as it
 * does the admin ones. The endpoint, delivery and postback-log operations run the admin handlers, behind a
 * check that the object named in the path or query belongs to the scope: anything else is 404, as if it did
 * not exist. Listing and creating are the portal's own, so that the scope is a filter and a forced value.
 */
public final class PortalRoutes {
  /** The portal's operation id for an admin one: {@code getDelivery} → {@code portalGetDelivery}. */
  public static final UnaryOperator<String> OPERATION =
      admin -> "portal" + Character.toUpperCase(admin.charAt(0)) + admin.substring(1);

  private static final String IN_SCOPE = "surface_id IS NOT DISTINCT FROM $2 AND affiliate_id IS NOT DISTINCT FROM $3";
  // Webhook endpoints only: the scope's affiliate postback templates are not endpoints (AffiliatePostbackAdmin);
  // the portal shows them read-only (GET /portal/api/postbacks), never through the endpoint routes.
  private static final String OWNS_ENDPOINT = "SELECT 1 FROM webhook_endpoints WHERE id = $1 AND kind = 'webhook' AND "
      + IN_SCOPE;
  private static final String OWNS_DELIVERY = "SELECT 1 FROM deliveries WHERE id = $1 AND endpoint_id IN "
      + "(SELECT id FROM webhook_endpoints WHERE kind = 'webhook' AND " + IN_SCOPE + ")";
  private static final String PAGE = "SELECT " + WebhookEndpointAdmin.COLUMNS + " FROM webhook_endpoints "
      + "WHERE ($1::text IS NULL OR id > $1) AND kind = 'webhook' AND " + IN_SCOPE + " ORDER BY id LIMIT $4";
  private static final List<String> ONE_ENDPOINT = List.of("getWebhookEndpoint", "updateWebhookEndpoint",
      "deleteWebhookEndpoint", "rotateWebhookSecret", "testWebhookEndpoint", "listDeliveryAttempts",
      "getWebhookEndpointHealth", "replayWebhookEndpoint");

  private final Pool pool;
  private final WebhookEndpointAdmin endpoints;
  private final DeliveryAdmin deliveries;
  private final PostbackLogAdmin postbackLog;
  private final AffiliatePostbackAdmin postbacks;

  public PortalRoutes(Pool pool, WebhookEndpointAdmin endpoints, DeliveryAdmin deliveries, PostbackLogAdmin postbackLog,
                      AffiliatePostbackAdmin postbacks) {
    this.pool = pool;
    this.endpoints = endpoints;
    this.deliveries = deliveries;
    this.postbackLog = postbackLog;
    this.postbacks = postbacks;
  }

  /** Mounts the portal operations; {@link PortalGate} has admitted the token before any of them runs. */
  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "portalGetScope", 200, this::scope);
    AdminJson.mount(api, "portalListWebhookEndpoints", 200, this::list);
    AdminJson.mount(api, "portalCreateWebhookEndpoint", 201, this::create);
    AdminJson.mount(api, "portalListAffiliatePostbacks", 200, this::listPostbacks);

    Handler<RoutingContext> ownEndpoint = ctx -> guard(ctx, OWNS_ENDPOINT, ctx.pathParam("id"), "Webhook endpoint");
    route(api, "updateWebhookEndpoint").addHandler(PortalRoutes::scopeIsFixed);
    ONE_ENDPOINT.forEach(operation -> route(api, operation).addHandler(ownEndpoint));
    endpoints.mountOne(api, OPERATION);

    route(api, "listDeliveries").addHandler(ctx ->
        guard(ctx, OWNS_ENDPOINT, ctx.queryParams().get("endpointId"), "Webhook endpoint"));
    Handler<RoutingContext> ownDelivery = ctx -> guard(ctx, OWNS_DELIVERY, ctx.pathParam("id"), "Delivery");
    route(api, "getDelivery").addHandler(ownDelivery);
    route(api, "replayDelivery").addHandler(ownDelivery);
    deliveries.mount(api, OPERATION);

    route(api, "getPostbackLog").addHandler(PortalRoutes::ownSurfaceLog);
    postbackLog.mount(api, OPERATION);
  }

  private static OpenAPIRoute route(RouterBuilder api, String adminOperation) {
    OpenAPIRoute route = api.getRoute(OPERATION.apply(adminOperation));
    if (route == null) {
      throw new IllegalStateException("The OpenAPI document has no operation " + OPERATION.apply(adminOperation));
    }
    return route;
  }

  private Future<JsonObject> scope(RoutingContext ctx) {
    PortalScope scope = PortalAuth.scope(ctx);
    return Future.succeededFuture(new JsonObject().put("surfaceId", scope.surfaceId())
        .put("affiliateId", scope.affiliateId()).put("expiresAt", scope.expiresAt().toString()));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    PortalScope scope = PortalAuth.scope(ctx);
    int limit = AdminJson.limit(ctx);
    return pool.preparedQuery(PAGE)
        .execute(Tuple.of(ctx.queryParams().get("cursor"), scope.surfaceId(), scope.affiliateId(), limit))
        .map(rows -> AdminJson.page(rows.stream().toList(), limit, WebhookEndpointAdmin::toJson, r -> r.getString("id")));
  }

  /**
   * The link's affiliate's postback templates that fire for its surface (all of them for a link without one),
   * with their health: what the affiliate's tracker is sent, and how it answers. Read-only.
   */
  private Future<JsonObject> listPostbacks(RoutingContext ctx) {
    PortalScope scope = PortalAuth.scope(ctx);
    if (scope.affiliateId() == null) {
      throw ApiError.of(404, "not_found", "Postback templates belong to an affiliate; this portal link names none");
    }
    return postbacks.page(scope.affiliateId(), scope.surfaceId(), ctx.queryParams().get("cursor"), AdminJson.limit(ctx));
  }

  /** The admin registration, with the link's scope in place of whatever the body said. */
  private Future<JsonObject> create(RoutingContext ctx) {
    PortalScope scope = PortalAuth.scope(ctx);
    JsonObject body = AdminJson.body(ctx).copy()
        .put("surfaceId", scope.surfaceId())
        .put("affiliateId", scope.affiliateId());
    return endpoints.create(body);
  }

  /** An endpoint's scope is the link's: an edit may not move it elsewhere. */
  private static void scopeIsFixed(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    if (body.containsKey("surfaceId") || body.containsKey("affiliateId")) {
      ctx.fail(ApiError.of(400, "scope_fixed", "An endpoint's surface and affiliate are those of the portal link"));
      return;
    }
    ctx.next();
  }

  /** The postback log is kept per surface: a link scoped to a surface reads that surface's log only. */
  private static void ownSurfaceLog(RoutingContext ctx) {
    PortalScope scope = PortalAuth.scope(ctx);
    if (scope.surfaceId() == null) {
      ctx.fail(ApiError.of(404, "not_found", "The postback log is kept per surface; this portal link names no surface"));
      return;
    }
    if (!scope.surfaceId().equals(ctx.queryParams().get("surfaceId"))) {
      ctx.fail(ApiError.notFound("Surface " + ctx.queryParams().get("surfaceId")));
      return;
    }
    ctx.next();
  }

  private void guard(RoutingContext ctx, String sql, String id, String what) {
    PortalScope scope = PortalAuth.scope(ctx);
    pool.preparedQuery(sql).execute(Tuple.of(id, scope.surfaceId(), scope.affiliateId())).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else if (ar.result().size() == 0) {
        ctx.fail(ApiError.notFound(what + " " + id));
      } else {
        ctx.next();
      }
    });
  }
}
