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
import io.vertx.ext.web.Router;
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
  private static final long MAX_TOLERANCE_MS = Duration.ofHours(1).toMillis();

  private final SurfaceStore store;
  private final SurfaceRegistry registry;
  private final Duration defaultGrace;

  public SurfaceAdmin(SurfaceStore store, SurfaceRegistry registry, Duration defaultGrace) {
    this.store = store;
    this.registry = registry;
    this.defaultGrace = defaultGrace;
  }

  public void mount(Router admin) {
    admin.post("/surfaces").handler(ctx -> AdminJson.respond(ctx, 201, this::create));
    admin.get("/surfaces").handler(ctx -> AdminJson.respond(ctx, 200, this::list));
    admin.get("/surfaces/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::get));
    admin.patch("/surfaces/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::update));
    admin.post("/surfaces/:id/secrets").handler(ctx -> AdminJson.respond(ctx, 201, this::rotate));
    admin.post("/surfaces/:id/postback-token").handler(ctx -> AdminJson.respond(ctx, 201, this::renewToken));
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
    String id = AdminJson.optionalString(body, "id", 64);
    if (id != null && !Surface.validId(id)) {
      throw ApiError.invalidField("id", "id may hold letters, digits, '_' and '-' (at most 64)");
    }
    String name = AdminJson.requiredString(body, "name", 200);
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
        AdminJson.optionalString(body, "name", 200),
        tolerance(body),
        seconds(body, "attributionWindowSeconds", 60, Duration.ofDays(365).toSeconds()),
        seconds(body, "refundWindowSeconds", 0, Duration.ofDays(730).toSeconds()),
        AdminJson.optionalLong(body, "minClickToConversionMs", -1, Duration.ofDays(1).toMillis()),
        allowlist(body),
        intOrNull(AdminJson.optionalLong(body, "rateLimitPerSecond", 0, 1_000_000)),
        intOrNull(AdminJson.optionalLong(body, "rateLimitBurst", 0, 10_000_000)),
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
    Long graceSeconds = AdminJson.optionalLong(AdminJson.body(ctx), "graceSeconds", 0, Duration.ofDays(30).toSeconds());
    return graceSeconds == null ? defaultGrace : Duration.ofSeconds(graceSeconds);
  }

  private static Duration seconds(JsonObject body, String field, long min, long max) {
    Long s = AdminJson.optionalLong(body, field, min, max);
    return s == null ? null : Duration.ofSeconds(s);
  }

  private static Integer intOrNull(Long value) {
    return value == null ? null : value.intValue();
  }

  private static List<Cidr> allowlist(JsonObject body) {
    Object v = body.getValue("ipAllowlist");
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray array) || array.size() > 100) {
      throw ApiError.invalidField("ipAllowlist", "ipAllowlist must be an array of at most 100 CIDRs");
    }
    List<Cidr> out = new ArrayList<>();
    for (Object item : array) {
      try {
        out.add(Cidr.parse(String.valueOf(item)));
      } catch (IllegalArgumentException e) {
        throw ApiError.invalidField("ipAllowlist", "ipAllowlist: " + e.getMessage());
      }
    }
    return out;
  }

  private static Duration tolerance(JsonObject body) {
    Long ms = AdminJson.optionalLong(body, "timestampToleranceMs", 1_000, MAX_TOLERANCE_MS);
    return ms == null ? null : Duration.ofMillis(ms);
  }
}
