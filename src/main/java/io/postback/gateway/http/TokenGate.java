package io.postback.gateway.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * In front of every route: a request to the paths a gate guards must carry the gate's token, and its body
 * is read (bounded) for the contract's validation; any other request passes untouched. A path test rather
 * than a mount point, because the guarded routes live on the router that the OpenAPI router builder
 * creates, beside the hand-written ingest routes. The admin API and the integrator portal each have one.
 */
public abstract class TokenGate implements Handler<RoutingContext> {
  private final BodyHandler bodies;

  protected TokenGate(long bodyLimitBytes) {
    this.bodies = BodyHandler.create(false).setBodyLimit(bodyLimitBytes);
  }

  /** Whether this gate guards the (normalized) path. */
  protected abstract boolean guards(String path);

  /** True when the request may go on; otherwise it has been answered (401). */
  protected abstract boolean admits(RoutingContext ctx);

  @Override
  public final void handle(RoutingContext ctx) {
    String path;
    try {
      path = ctx.normalizedPath();
    } catch (IllegalArgumentException undecodable) {
      // A broken %-escape: no route can match it; the router answers 400.
      ctx.next();
      return;
    }
    if (path == null || !guards(path)) {
      ctx.next();
      return;
    }
    if (admits(ctx)) {
      bodies.handle(ctx);
    }
  }
}
