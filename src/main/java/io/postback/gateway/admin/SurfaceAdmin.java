package io.postback.gateway.admin;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.net.Cidr;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.surface.SurfaceStore.SurfaceChange;
import io.postback.gateway.surface.SurfaceStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /admin/surfaces}: create (answers the secret and the GET-postback token once), read, update
 * (attribution and refund windows, minimum click-to-conversion time, IP allowlist, rate limit, token
 * authentication on or off), rotate the secret, renew the postback token. Secrets and tokens are shown
 * only in the answer that creates them.
 */
public final class SurfaceAdmin {
  private final SurfaceStore store;
  private final SurfaceRegistry registry;
  private final Duration defaultGrace;

  public SurfaceAdmin(SurfaceStore store, SurfaceRegistry registry, Duration defaultGrace) {
    this.store = store;
    this.registry = registry;
    this.defaultGrace = defaultGrace;
  }

  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "createSurface", 201, this::create);
    AdminJson.mount(api, "listSurfaces", 200, this::list);
    AdminJson.mount(api, "getSurface", 200, this::get);
    AdminJson.mount(api, "updateSurface", 200, this::update);
    AdminJson.mount(api, "rotateSurfaceSecret", 201, this::rotate);
    AdminJson.mount(api, "renewPostbackToken", 201, this::renewToken);
  }

  /** Creates a surface with a fresh secret; also used to create the demo surface at start. */
  public Future<Surface> create(String id, String name, Duration tolerance) {
    return store.insert(id, name, newSecret(), tolerance, newPostbackToken()).map(created -> {
      if (created == null) {
        throw ApiError.of(409, "conflict", "A surface with id " + id + " already exists");
      }
      registry.put(created);
      return created;
    });
  }

  public static String newSecret() {
    return Ids.secret("pbs_", 32);
  }

  public static String newPostbackToken() {
    return Ids.secret("pbt_", 24);
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String id = AdminJson.optionalString(body, "id");
    String name = AdminJson.requiredString(body, "name");
    Duration tolerance = tolerance(body);
    return create(id != null ? id : Ids.timeOrdered("srf"), name, tolerance)
        .map(s -> s.toAdminJson().put("secret", s.secret()).put("postbackToken", s.postbackToken()));
  }

  /** {@code GET /admin/surfaces?q=&limit=&cursor=}: ordered by id; {@code q} matches id or name. */
  private Future<JsonObject> list(RoutingContext ctx) {
    int limit = AdminJson.limit(ctx);
    return store.page(AdminJson.query(ctx, "q", 200), AdminJson.query(ctx, "cursor", 64), limit)
        .map(page -> AdminJson.page(page, limit, Surface::toAdminJson, Surface::id));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    return store.find(ctx.pathParam("id")).map(s -> {
      if (s == null) {
        throw ApiError.notFound("Surface " + ctx.pathParam("id"));
      }
      return s.toAdminJson();
    });
  }

  private Future<JsonObject> update(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    SurfaceChange change = new SurfaceChange(
        AdminJson.optionalString(body, "name"),
        tolerance(body),
        seconds(body, "attributionWindowSeconds"),
        seconds(body, "refundWindowSeconds"),
        AdminJson.optionalLong(body, "minClickToConversionMs"),
        allowlist(body),
        intOrNull(AdminJson.optionalLong(body, "rateLimitPerSecond")),
        intOrNull(AdminJson.optionalLong(body, "rateLimitBurst")),
        AdminJson.optionalBoolean(body, "postbackTokenEnabled"));
    return store.update(ctx.pathParam("id"), change).map(s -> {
      if (s == null) {
        throw ApiError.notFound("Surface " + ctx.pathParam("id"));
      }
      registry.put(s);
      return s.toAdminJson();
    });
  }

  private Future<JsonObject> rotate(RoutingContext ctx) {
    return store.rotate(ctx.pathParam("id"), newSecret(), grace(ctx)).map(s -> {
      if (s == null) {
        throw ApiError.notFound("Surface " + ctx.pathParam("id"));
      }
      registry.put(s);
      return s.toAdminJson().put("secret", s.secret());
    });
  }

  /** A new token; the previous one keeps authenticating for the grace time ({@code graceSeconds}, 0: not at all). */
  private Future<JsonObject> renewToken(RoutingContext ctx) {
    return store.rotatePostbackToken(ctx.pathParam("id"), newPostbackToken(), grace(ctx)).map(s -> {
      if (s == null) {
        throw ApiError.notFound("Surface " + ctx.pathParam("id"));
      }
      registry.put(s);
      return s.toAdminJson().put("postbackToken", s.postbackToken());
    });
  }

  /** {@code graceSeconds} of a rotation (at most 30 days), else the configured secret grace period. */
  private Duration grace(RoutingContext ctx) {
    Long graceSeconds = AdminJson.optionalLong(AdminJson.body(ctx), "graceSeconds");
    return graceSeconds == null ? defaultGrace : Duration.ofSeconds(graceSeconds);
  }

  private static Duration seconds(JsonObject body, String field) {
    Long s = AdminJson.optionalLong(body, field);
    return s == null ? null : Duration.ofSeconds(s);
  }

  private static Integer intOrNull(Long value) {
    return value == null ? null : value.intValue();
  }

  private static List<Cidr> allowlist(JsonObject body) {
    JsonArray array = body.getJsonArray("ipAllowlist");
    if (array == null) {
      return null;
    }
    List<Cidr> out = new ArrayList<>();
    for (Object item : array) {
      try {
        out.add(Cidr.parse((String) item));
      } catch (IllegalArgumentException e) {
        throw ApiError.invalidField("ipAllowlist", "ipAllowlist: " + e.getMessage());
      }
    }
    return out;
  }

  private static Duration tolerance(JsonObject body) {
    Long ms = AdminJson.optionalLong(body, "timestampToleranceMs");
    return ms == null ? null : Duration.ofMillis(ms);
  }
}
