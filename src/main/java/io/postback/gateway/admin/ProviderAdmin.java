package io.postback.gateway.admin;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.provider.Provider;
import io.postback.gateway.provider.ProviderStore;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;

import java.time.Duration;
import java.time.Instant;

/**
 * {@code /admin/surfaces/{id}/providers}: a surface's payment-provider webhook secrets. {@code PUT
 * .../providers/{stripe|razorpay}} with {@code {"webhookSecret": "..."}} sets or replaces one; a replaced
 * secret keeps verifying for {@code graceSeconds} (default: the configured secret grace period, 0: not
 * at all), so the provider's dashboard and the gateway need not change at the same instant. {@code GET}
 * shows which providers are configured, never a secret; {@code DELETE} removes one.
 */
public final class ProviderAdmin {

  private final ProviderStore store;
  private final SurfaceRegistry surfaces;
  private final Duration defaultGrace;

  public ProviderAdmin(ProviderStore store, SurfaceRegistry surfaces, Duration defaultGrace) {
    this.store = store;
    this.surfaces = surfaces;
    this.defaultGrace = defaultGrace;
  }

  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "putSurfaceProvider", 200, this::put);
    AdminJson.mount(api, "listSurfaceProviders", 200, this::list);
    AdminJson.mount(api, "deleteSurfaceProvider", 200, this::delete);
  }

  private Future<JsonObject> put(RoutingContext ctx) {
    Provider provider = provider(ctx);
    JsonObject body = AdminJson.body(ctx);
    String secret = AdminJson.requiredString(body, "webhookSecret");
    Long graceSeconds = AdminJson.optionalLong(body, "graceSeconds");
    Duration grace = graceSeconds == null ? defaultGrace : Duration.ofSeconds(graceSeconds);
    String surfaceId = ctx.pathParam("id");
    return store.put(surfaceId, provider, secret, grace)
        .recover(e -> Future.failedFuture(e instanceof PgException pg && "23503".equals(pg.getSqlState())
            ? ApiError.notFound("Surface " + surfaceId) : e))
        .map(saved -> saved.toAdminJson(Instant.now()).put("surfaceId", surfaceId)
            .put("endpoint", "/v1/providers/" + provider.id() + "/" + surfaceId));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    String surfaceId = ctx.pathParam("id");
    Instant now = Instant.now();
    return surfaces.find(surfaceId).compose(surface -> {
      if (surface == null) {
        throw ApiError.notFound("Surface " + surfaceId);
      }
      return store.list(surfaceId);
    }).map(secrets -> {
      JsonArray items = new JsonArray();
      secrets.forEach(s -> items.add(s.toAdminJson(now).put("endpoint", "/v1/providers/" + s.provider().id() + "/"
          + surfaceId)));
      return new JsonObject().put("surfaceId", surfaceId).put("items", items);
    });
  }

  private Future<JsonObject> delete(RoutingContext ctx) {
    Provider provider = provider(ctx);
    String surfaceId = ctx.pathParam("id");
    return store.delete(surfaceId, provider).map(deleted -> {
      if (!deleted) {
        throw ApiError.notFound("A " + provider.id() + " webhook secret on surface " + surfaceId);
      }
      return new JsonObject().put("surfaceId", surfaceId).put("provider", provider.id()).put("deleted", true);
    });
  }

  private static Provider provider(RoutingContext ctx) {
    Provider provider = Provider.of(ctx.pathParam("provider"));
    if (provider == null) {
      throw ApiError.notFound("Provider " + ctx.pathParam("provider") + " (supported: stripe, razorpay)");
    }
    return provider;
  }
}
