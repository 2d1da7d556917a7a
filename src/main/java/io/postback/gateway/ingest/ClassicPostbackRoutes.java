package io.postback.gateway.ingest;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Currency;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /v1/postback} and {@code GET /v1/postback/{surface}/{token}} (SPEC §3.3): the classic S2S
 * postback with the values in the query string, under the names the industry uses. Authenticated by
 * the surface's postback token ({@code token} or the path key) or by an HMAC of the query
 * ({@code ts} = Unix ms, {@code sig} = hex HMAC-SHA256(secret, "<ts>.<raw query without the sig
 * parameter>")). Every rejection is an explicit error code, never the industry's silent 200.
 */
public final class ClassicPostbackRoutes {
  static final String[] CLICK_ID = {"clickid", "click_id", "cid", "subid", "transaction_id"};
  static final String[] EXTERNAL_ID = {"txid", "tid", "order_id", "external_id"};
  static final String[] AMOUNT = {"amount", "payout", "revenue", "sum"};
  static final String[] EVENT = {"event", "event_type", "goal"};
  static final String[] CURRENCY = {"currency", "cur"};
  static final String[] PROMO = {"promo_code", "promocode", "coupon"};
  static final String[] REFUND_OF = {"refund_of", "original_txid"};
  static final String[] STATUS = {"status"};
  static final String[] OCCURRED_AT = {"occurred_at"};
  private static final Map<String, String> STATUSES = Map.ofEntries(
      Map.entry("approved", "approved"), Map.entry("approve", "approved"), Map.entry("confirmed", "approved"),
      Map.entry("paid", "approved"), Map.entry("1", "approved"), Map.entry("success", "approved"),
      Map.entry("pending", "pending"), Map.entry("hold", "pending"), Map.entry("0", "pending"),
      Map.entry("rejected", "rejected"), Map.entry("reject", "rejected"), Map.entry("declined", "rejected"),
      Map.entry("cancelled", "rejected"), Map.entry("canceled", "rejected"), Map.entry("-1", "rejected"),
      Map.entry("fraud", "rejected"));

  private final SurfaceRegistry surfaces;
  private final ConversionPipeline pipeline;
  private final IngestRoutes signed;
  private final SurfaceGuard guard;

  public ClassicPostbackRoutes(SurfaceRegistry surfaces, ConversionPipeline pipeline, IngestRoutes signed,
                               SurfaceGuard guard) {
    this.surfaces = surfaces;
    this.pipeline = pipeline;
    this.signed = signed;
    this.guard = guard;
  }

  public void mount(Router router) {
    router.get("/v1/postback").handler(this::postback);
    router.get("/v1/postback/:surface/:token").handler(this::postback);
  }

  private void postback(RoutingContext ctx) {
    IngestAttempt attempt = signed.attempt(ctx, "get_postback");
    HttpServerRequest req = ctx.request();
    MultiMap params = req.params();
    String surfaceId = ctx.pathParam("surface") != null ? ctx.pathParam("surface") : params.get("surface");
    if (surfaceId == null || surfaceId.isEmpty()) {
      attempt.fail(ApiError.of(401, "unknown_surface", "Name the surface: ?surface=<id> or /v1/postback/<surface>/<token>"));
      return;
    }
    // Shown in the postback log even when the postback is refused, so the integrator can find it.
    attempt.externalId = firstOf(params, EXTERNAL_ID);
    attempt.finish(surfaces.find(surfaceId).compose(surface -> {
      if (surface == null) {
        throw ApiError.of(401, "unknown_surface", "No surface with id " + surfaceId);
      }
      attempt.surface = surface;
      guard.checkSource(surface, attempt.clientAddress());
      String token = ctx.pathParam("token") != null ? ctx.pathParam("token") : params.get("token");
      authenticate(surface, token, params.get("ts"), params.get("sig"), req.query());
      guard.checkRate(surface);
      ConversionDraft draft = draft(params);
      attempt.track(draft);
      return pipeline.submit(surface, draft.validate(surface.id(), Instant.now()));
    }));
  }

  private void authenticate(Surface surface, String token, String ts, String sig, String rawQuery) {
    if (token != null) {
      if (surface.postbackToken() == null || !MessageDigest.isEqual(
          surface.postbackToken().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
        throw ApiError.of(401, "bad_token", "The postback token is not this surface's token");
      }
      return;
    }
    if (sig == null) {
      throw ApiError.of(401, "missing_token", "Authenticate with token=<postback token> or with ts and sig "
          + "(hex HMAC-SHA256 of \"<ts>.<query without sig>\")");
    }
    Instant now = Instant.now();
    signed.checkTimestamp(surface, ts, now);
    byte[] signedBytes = withoutSig(rawQuery).getBytes(StandardCharsets.UTF_8);
    if (!IngestRoutes.verify(surface, ts, signedBytes, sig, now)) {
      throw ApiError.of(401, "bad_signature",
          "sig does not match HMAC-SHA256(secret, \"<ts>.<raw query without the sig parameter>\")");
    }
  }

  /** The raw query with the {@code sig} parameter taken out, the rest byte for byte as sent. */
  static String withoutSig(String rawQuery) {
    StringBuilder out = new StringBuilder(rawQuery.length());
    for (String part : rawQuery.split("&")) {
      if (part.startsWith("sig=") || part.equals("sig")) {
        continue;
      }
      if (out.length() > 0) {
        out.append('&');
      }
      out.append(part);
    }
    return out.toString();
  }

  private static ConversionDraft draft(MultiMap params) {
    ConversionDraft d = new ConversionDraft();
    d.externalId = alias(params, "txid", EXTERNAL_ID);
    d.clickId = alias(params, "clickid", CLICK_ID);
    d.currency = alias(params, "currency", CURRENCY);
    d.promoCode = alias(params, "promo_code", PROMO);
    d.refundOf = alias(params, "refund_of", REFUND_OF);
    d.occurredAt = alias(params, "occurred_at", OCCURRED_AT);
    String amount = alias(params, "amount", AMOUNT);
    if (amount != null) {
      d.grossMinor = minorUnits(amount, d.currency);
    }
    String event = alias(params, "event", EVENT);
    d.eventType = event != null ? event : d.refundOf != null ? "refund" : amount != null ? "sale" : "lead";
    String status = alias(params, "status", STATUS);
    if (status != null) {
      String mapped = STATUSES.get(status.toLowerCase());
      if (mapped == null) {
        throw ApiError.invalidField("status", "status must be one of approved, pending or rejected "
            + "(or a common synonym such as confirmed, hold, declined, 1, 0, -1)");
      }
      // The conversion's approval: pending and approved earn, rejected earns nothing, and a repeat with
      // a different status is a transition (ConversionPipeline, ApprovalWriter).
      d.approval = mapped;
    }
    return d;
  }

  private static String firstOf(MultiMap params, String... names) {
    for (String name : names) {
      String v = params.get(name);
      if (v != null && !v.isEmpty()) {
        return v.length() > ConversionDraft.MAX_EXTERNAL_ID ? v.substring(0, ConversionDraft.MAX_EXTERNAL_ID) : v;
      }
    }
    return null;
  }

  /** The one value of a field given under any of its alias names; two different values is an error. */
  static String alias(MultiMap params, String field, String... names) {
    Set<String> values = new LinkedHashSet<>();
    for (String name : names) {
      for (String v : params.getAll(name)) {
        if (!v.isEmpty()) {
          values.add(v);
        }
      }
    }
    if (values.size() > 1) {
      throw ApiError.invalidField(field, "conflicting values for " + field + " (accepted names: "
          + String.join(", ", names) + ")");
    }
    return values.isEmpty() ? null : values.iterator().next();
  }

  /** "49.99" USD → 4999; "500" JPY → 500: decimal major units to minor units of the currency. */
  static long minorUnits(String amount, String currency) {
    int digits = 2;
    if (currency != null) {
      try {
        digits = Math.max(0, Currency.getInstance(currency).getDefaultFractionDigits());
      } catch (IllegalArgumentException e) {
        // the currency itself is refused by validation
      }
    }
    BigDecimal value;
    try {
      value = new BigDecimal(amount);
    } catch (NumberFormatException e) {
      throw ApiError.invalidField("amount", "amount must be a decimal number in major units, such as 49.99");
    }
    if (value.signum() < 0) {
      throw ApiError.invalidField("amount", "amount must not be negative");
    }
    BigDecimal minor = value.movePointRight(digits).stripTrailingZeros();
    if (minor.scale() > 0) {
      throw ApiError.invalidField("amount", "amount has more decimals than " + (currency == null ? "the currency" : currency)
          + " allows (" + digits + ")");
    }
    try {
      return minor.longValueExact();
    } catch (ArithmeticException e) {
      throw ApiError.invalidField("amount", "amount is too large");
    }
  }
}
