package io.postback.gateway.portal;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ErrorResponder;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;

/**
 * {@code Authorization: Bearer ptl_...} on every portal API route: only a genuine, unexpired portal token
 * passes (the admin token is not one), and its scope goes into the routing context for the routes to apply.
 */
final class PortalAuth {
  private final PortalTokens tokens;

  PortalAuth(PortalTokens tokens) {
    this.tokens = tokens;
  }

  /** True when the request may go on; otherwise it has been answered 401. */
  boolean admits(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    PortalScope scope = header != null && header.startsWith("Bearer ") ? tokens.verify(header.substring(7)) : null;
    if (scope == null) {
      ErrorResponder.send(ctx, ApiError.of(401, "unauthorized", "Send Authorization: Bearer <portal link token>"));
      return false;
    }
    if (scope.expiresAt().isBefore(Instant.now())) {
      ErrorResponder.send(ctx, ApiError.of(401, "portal_link_expired",
          "This portal link expired at " + scope.expiresAt() + "; ask the operator for a new one"));
      return false;
    }
    ctx.put(PortalScope.KEY, scope);
    return true;
  }

  static PortalScope scope(RoutingContext ctx) {
    return ctx.get(PortalScope.KEY);
  }
}
