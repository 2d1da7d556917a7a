package io.postback.gateway.admin;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.program.CommissionRule;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.program.ProgramStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;

import java.time.Instant;
import java.util.Currency;
import java.util.regex.Pattern;

/**
 * {@code /admin/commission-rules}: flat ({@code flatMinor} + {@code currency}) or percentage
 * ({@code percentBps}, 1250 = 12.5 %) per surface and event type, optionally for one affiliate. Posting a
 * rule for a slot that has one replaces it.
 */
public final class CommissionRuleAdmin {
  private static final Pattern EVENT_TYPE = Pattern.compile("[a-z][a-z0-9_]{0,31}");

  private final ProgramStore store;
  private final ProgramCatalog catalog;

  public CommissionRuleAdmin(ProgramStore store, ProgramCatalog catalog) {
    this.store = store;
    this.catalog = catalog;
  }

  public void mount(Router admin) {
    admin.post("/commission-rules").handler(ctx -> AdminJson.respond(ctx, 201, this::create));
    admin.get("/commission-rules").handler(ctx -> AdminJson.respond(ctx, 200, this::list));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String surfaceId = AdminJson.requiredString(body, "surfaceId", 64);
    String eventType = AdminJson.requiredString(body, "eventType", 32);
    if (!EVENT_TYPE.matcher(eventType).matches() || "refund".equals(eventType)) {
      throw ApiError.invalidField("eventType", "eventType must be a lowercase token such as sale or signup (not refund)");
    }
    String affiliateId = AdminJson.optionalString(body, "affiliateId", 64);
    Long flat = AdminJson.optionalLong(body, "flatMinor", 0, 1_000_000_000_000L);
    Long bps = AdminJson.optionalLong(body, "percentBps", 0, 10_000);
    String currency = AdminJson.optionalString(body, "currency", 3);
    if ((flat == null) == (bps == null)) {
      throw ApiError.invalidField("flatMinor", "give exactly one of flatMinor (flat amount) or percentBps (percentage)");
    }
    if (flat != null && currency == null) {
      throw ApiError.invalidField("currency", "currency is required with flatMinor");
    }
    if (currency != null) {
      try {
        Currency.getInstance(currency);
      } catch (IllegalArgumentException e) {
        throw ApiError.invalidField("currency", "currency must be an ISO 4217 code such as USD or EUR");
      }
    }
    CommissionRule rule = new CommissionRule(Ids.timeOrdered("rule"), surfaceId, eventType, affiliateId, flat,
        bps == null ? null : bps.intValue(), flat == null ? null : currency, Instant.now());
    return store.upsertRule(rule)
        .recover(e -> Future.failedFuture(unknownReference(e)))
        .map(saved -> {
          catalog.put(saved);
          return saved.toJson();
        });
  }

  /** A foreign-key violation names the surface or affiliate that does not exist; anything else passes. */
  private static Throwable unknownReference(Throwable e) {
    if (e instanceof PgException pg && "23503".equals(pg.getSqlState())) {
      boolean affiliate = pg.getConstraint() != null && pg.getConstraint().contains("affiliate");
      return affiliate ? ApiError.invalidField("affiliateId", "No affiliate with that id")
          : ApiError.invalidField("surfaceId", "No surface with that id");
    }
    return e;
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    String surfaceId = ctx.queryParams().get("surfaceId");
    if (surfaceId == null || surfaceId.isEmpty()) {
      throw ApiError.invalidField("surfaceId", "surfaceId is required");
    }
    return store.rulesOf(surfaceId).map(rules -> {
      JsonArray items = new JsonArray();
      rules.forEach(r -> items.add(r.toJson()));
      return new JsonObject().put("items", items);
    });
  }
}
