package io.postback.gateway.admin;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatableRequest;

import java.util.HashMap;
import java.util.Map;

/**
 * In front of every route: a request to the admin API ({@code /admin/...}, {@code /v1/reports/...}) must
 * carry the admin token, and its body is read (bounded) for the contract's validation. Any other request
 * passes untouched. A path test rather than a mount point, because the admin routes live on the router
 * that the OpenAPI router builder creates, beside the hand-written ingest routes.
 */
public final class AdminGate implements Handler<RoutingContext> {
  private final AdminAuth auth;
  private final BodyHandler bodies;

  public AdminGate(String adminToken, long bodyLimitBytes) {
    this.auth = new AdminAuth(adminToken);
    this.bodies = BodyHandler.create(false).setBodyLimit(bodyLimitBytes);
  }

  public static boolean isAdminPath(String path) {
    return path != null && (path.startsWith("/admin/") || path.equals("/admin") || path.startsWith("/v1/reports/"));
  }

  /**
   * How the contract's validator reads an admin request: path and query parameters as the router decoded
   * them (vertx-openapi 5.0.10 would percent-decode query values a second time and fail on a '%'), and the
   * body the gateway already read, always as JSON: the admin API speaks only JSON, and a body sent without
   * its media type (e.g. {@code curl -d}, which says form-urlencoded) has always been read as JSON.
   */
  public static RequestExtractor requests() {
    return (ctx, operation) -> {
      Map<String, RequestParameter> path = new HashMap<>();
      Map<String, RequestParameter> query = new HashMap<>();
      for (Parameter parameter : operation.getParameters()) {
        String name = parameter.getName();
        if (parameter.getIn() == Location.PATH) {
          path.put(name, value(ctx.pathParam(name)));
        } else if (parameter.getIn() == Location.QUERY) {
          query.put(name, value(ctx.queryParams().get(name)));
        }
      }
      Buffer body = operation.getRequestBody() == null || ctx.body() == null ? null : ctx.body().buffer();
      return Future.succeededFuture(new AdminRequest(path, query, value(body)));
    };
  }

  private static RequestParameter value(Object value) {
    return () -> value;
  }

  private record AdminRequest(Map<String, RequestParameter> getPathParameters, Map<String, RequestParameter> getQuery,
                              RequestParameter getBody) implements ValidatableRequest {
    @Override
    public String getContentType() {
      return "application/json";
    }

    @Override
    public Map<String, RequestParameter> getCookies() {
      return Map.of();
    }

    @Override
    public Map<String, RequestParameter> getHeaders() {
      return Map.of();
    }
  }

  @Override
  public void handle(RoutingContext ctx) {
    String path;
    try {
      path = ctx.normalizedPath();
    } catch (IllegalArgumentException undecodable) {
      // A broken %-escape: no route can match it; the router answers 400.
      ctx.next();
      return;
    }
    if (!isAdminPath(path)) {
      ctx.next();
      return;
    }
    if (auth.admits(ctx)) {
      bodies.handle(ctx);
    }
  }
}
