package io.postback.gateway.admin;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.store.Ids;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.surface.SurfaceStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.util.regex.Pattern;

/** {@code /admin/surfaces}: create (answers the secret once), read, update, rotate the secret. */
public final class SurfaceAdmin {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
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
    admin.get("/surfaces/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::get));
    admin.patch("/surfaces/:id").handler(ctx -> AdminJson.respond(ctx, 200, this::update));
    admin.post("/surfaces/:id/secrets").handler(ctx -> AdminJson.respond(ctx, 201, this::rotate));
  }

  /** Creates a surface with a fresh secret; also used to create the demo surface at start. */
  public Future<Surface> create(String id, String name, Duration tolerance) {
    return store.insert(id, name, newSecret(), tolerance).map(created -> {
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

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String id = AdminJson.optionalString(body, "id", 64);
    if (id != null && !ID.matcher(id).matches()) {
      throw ApiError.invalidField("id", "id may hold letters, digits, '_' and '-' (at most 64)");
    }
    String name = AdminJson.requiredString(body, "name", 200);
    Duration tolerance = tolerance(body);
    return create(id != null ? id : Ids.timeOrdered("srf"), name, tolerance)
        .map(s -> s.toAdminJson().put("secret", s.secret()));
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
    String name = AdminJson.optionalString(body, "name", 200);
    Duration tolerance = tolerance(body);
    return store.update(ctx.pathParam("id"), name, tolerance).map(s -> {
      if (s == null) {
        throw ApiError.notFound("Surface " + ctx.pathParam("id"));
      }
      registry.put(s);
      return s.toAdminJson();
    });
  }

  private Future<JsonObject> rotate(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    Long graceSeconds = AdminJson.optionalLong(body, "graceSeconds", 0, Duration.ofDays(30).toSeconds());
    Duration grace = graceSeconds == null ? defaultGrace : Duration.ofSeconds(graceSeconds);
    return store.rotate(ctx.pathParam("id"), newSecret(), grace).map(s -> {
      if (s == null) {
        throw ApiError.notFound("Surface " + ctx.pathParam("id"));
      }
      registry.put(s);
      return s.toAdminJson().put("secret", s.secret());
    });
  }

  private static Duration tolerance(JsonObject body) {
    Long ms = AdminJson.optionalLong(body, "timestampToleranceMs", 1_000, MAX_TOLERANCE_MS);
    return ms == null ? null : Duration.ofMillis(ms);
  }
}
