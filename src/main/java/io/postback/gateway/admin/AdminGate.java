package io.postback.gateway.admin;

import io.postback.gateway.http.TokenGate;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatableRequest;

import java.util.HashMap;
import java.util.Map;

/**
 * The admin API's gate: a request to {@code /admin/...} or {@code /v1/reports/...} must carry the admin
 * token. Also how the contract's validator reads an admin (or portal) request ({@link #requests}).
 */
public final class AdminGate extends TokenGate {
  private final AdminAuth auth;

  public AdminGate(String adminToken, long bodyLimitBytes) {
    super(bodyLimitBytes);
    this.auth = new AdminAuth(adminToken);
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
  protected boolean guards(String path) {
    return isAdminPath(path);
  }

  @Override
  protected boolean admits(RoutingContext ctx) {
    return auth.admits(ctx);
  }
}
