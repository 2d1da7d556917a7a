package io.postback.gateway.portal;

import io.postback.gateway.http.TokenGate;
import io.vertx.ext.web.RoutingContext;

/**
 * The portal API's gate: a request to {@code /portal/api/...} must carry a genuine, unexpired portal token.
 * The admin token opens nothing here, nor a portal token there.
 */
public final class PortalGate extends TokenGate {
  static final String API = "/portal/api/";

  private final PortalAuth auth;

  public PortalGate(PortalTokens tokens, long bodyLimitBytes) {
    super(bodyLimitBytes);
    this.auth = new PortalAuth(tokens);
  }

  @Override
  protected boolean guards(String path) {
    return path.startsWith(API);
  }

  @Override
  protected boolean admits(RoutingContext ctx) {
    return auth.admits(ctx);
  }
}
