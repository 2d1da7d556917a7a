package io.postback.gateway.admin;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ingest.PostbackLog;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.RoutingContext;

import java.util.function.UnaryOperator;

/** {@code GET /admin/postback-log?surfaceId=&limit=}: a surface's recent inbound postbacks, newest first. */
public final class PostbackLogAdmin {
  private final PostbackLog log;

  public PostbackLogAdmin(PostbackLog log) {
    this.log = log;
  }

  public void mount(RouterBuilder api) {
    mount(api, UnaryOperator.identity());
  }

  /** The operation under the id {@code operationId} makes of the admin one (the portal mounts it too). */
  public void mount(RouterBuilder api, UnaryOperator<String> operationId) {
    AdminJson.mount(api, operationId.apply("getPostbackLog"), 200, this::recent);
  }

  private Future<JsonObject> recent(RoutingContext ctx) {
    String surfaceId = ctx.queryParams().get("surfaceId");
    if (surfaceId == null || surfaceId.isEmpty()) {
      throw ApiError.invalidField("surfaceId", "surfaceId is required");
    }
    int limit = Math.min(AdminJson.limit(ctx), PostbackLog.CAPACITY);
    return log.recent(surfaceId, limit).map(items -> new JsonObject()
        .put("surfaceId", surfaceId)
        .put("capacity", PostbackLog.CAPACITY)
        .put("items", items));
  }
}
