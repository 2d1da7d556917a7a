package io.postback.gateway.portal;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * In front of every route, like the admin gate: a request to the portal API ({@code /portal/api/...}) must
 * carry a genuine, unexpired portal token, and its body is read (bounded) for the contract's validation.
 * Any other request passes untouched. The admin token opens nothing here, nor a portal token there.
 */
public final class PortalGate implements Handler<RoutingContext> {
  static final String API = "/portal/api/";

  private final PortalAuth auth;
  private final BodyHandler bodies;

  public PortalGate(PortalTokens tokens, long bodyLimitBytes) {
    this.auth = new PortalAuth(tokens);
    this.bodies = BodyHandler.create(false).setBodyLimit(bodyLimitBytes);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String path;
    try {
      path = ctx.normalizedPath();
    } catch (IllegalArgumentException undecodable) {
      ctx.next();
      return;
    }
    if (path == null || !path.startsWith(API)) {
      ctx.next();
      return;
    }
    if (auth.admits(ctx)) {
      bodies.handle(ctx);
    }
  }
}
