package io.postback.gateway.portal;

import io.postback.gateway.admin.WebhookEndpointAdmin;
import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ClientAddress;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import java.time.Duration;
import java.time.Instant;

/**
 * {@code POST /admin/portal-links} {surfaceId?, affiliateId?, ttlSeconds?}: mints a portal link for an
 * integrator (ttlSeconds from 60 s to 30 days by contract, a day by default). The token travels in the URL
 * fragment, which browsers never send to a server or a log.
 */
public final class PortalLinkAdmin {
  private static final Duration DEFAULT_TTL = Duration.ofDays(1);

  private final Pool pool;
  private final PortalTokens tokens;

  public PortalLinkAdmin(Pool pool, PortalTokens tokens) {
    this.pool = pool;
    this.tokens = tokens;
  }

  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "createPortalLink", 201, this::mint);
  }

  private Future<JsonObject> mint(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String surfaceId = AdminJson.optionalString(body, "surfaceId");
    String affiliateId = AdminJson.optionalString(body, "affiliateId");
    if (surfaceId == null && affiliateId == null) {
      throw ApiError.invalidField("surfaceId", "a portal link needs a surfaceId, an affiliateId, or both");
    }
    Long ttl = AdminJson.optionalLong(body, "ttlSeconds");
    Instant expiresAt = Instant.now().plusSeconds(ttl == null ? DEFAULT_TTL.toSeconds() : ttl);
    return WebhookEndpointAdmin.checkScope(pool, surfaceId, affiliateId).map(checked -> {
      String token = tokens.mint(new PortalScope(surfaceId, affiliateId, expiresAt));
      String path = "/portal/#token=" + token;
      return new JsonObject()
          .put("url", ClientAddress.scheme(ctx) + "://" + ctx.request().authority() + path)
          .put("path", path)
          .put("token", token)
          .put("surfaceId", surfaceId)
          .put("affiliateId", affiliateId)
          .put("expiresAt", expiresAt.toString());
    });
  }
}
