package io.postback.gateway.ingest;

import io.postback.gateway.conversion.MinorUnits;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.RouteOrder;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.text.StorableText;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code GET /v1/postback} and {@code GET /v1/postback/{surface}/{token}} (SPEC §3.3): the classic S2S
 * postback with the values in the query string, under the names the industry uses. Authenticated by
 * the surface's postback token ({@code token} or the path key; unless the surface switched token
 * authentication off), or by an HMAC of the query: {@code ts} = Unix ms, {@code sig} = hex
 * HMAC-SHA256(secret, "<ts>.<canonical query>"), the canonical query ({@link CanonicalQuery}) being built
 * from exactly the parameters this handler reads. Parameters it does not read are ignored and unsigned.
 * Every rejection is an explicit error code, never the industry's silent 200.
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
  static final String SURFACE = "surface";
  /** Every parameter the handler reads, bar the credentials: exactly these are signed. */
  public static final List<String> SIGNED_NAMES = Stream.of(CLICK_ID, EXTERNAL_ID, AMOUNT, EVENT, CURRENCY, PROMO,
      REFUND_OF, STATUS, OCCURRED_AT, new String[] {SURFACE}).flatMap(Arrays::stream).toList();
  private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,20}(\\.[0-9]{1,20})?");
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
    router.get("/v1/postback").order(RouteOrder.HOT_PATH).handler(this::postback);
    router.get("/v1/postback/:surface/:token").order(RouteOrder.HOT_PATH).handler(this::postback);
  }

  private void postback(RoutingContext ctx) {
    IngestAttempt attempt = signed.attempt(ctx, "get_postback");
    HttpServerRequest req = ctx.request();
    MultiMap params;
    String surfaceId;
    try {
      params = parameters(req);
      surfaceId = ctx.pathParam("surface") != null ? ctx.pathParam("surface") : alias(params, SURFACE, SURFACE);
    } catch (ApiError e) {
      attempt.fail(e);
      return;
    }
    if (surfaceId == null) {
      attempt.fail(ApiError.of(401, "unknown_surface", "Name the surface: ?surface=<id> or /v1/postback/<surface>/<token>"));
      return;
    }
    if (!Surface.validId(surfaceId)) {
      attempt.fail(ApiError.of(401, "unknown_surface", "No surface has that id"));
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
      checkValues(params);
      authenticate(surface, ctx.pathParam("token") != null ? ctx.pathParam("token") : single(params, "token"), params);
      return guard.checkRate(surface).compose(checked -> {
        ConversionDraft draft = draft(params);
        attempt.track(draft);
        return pipeline.submit(surface, signed.validate(draft, surface, Instant.now()));
      });
    }));
  }

  /**
   * The decoded query parameters: the very map every value is read from and the signature is computed
   * over. Vert.x splits on {@code &} and {@code ;}, decodes {@code %XX} and {@code +}, and matches names
   * without regard to ASCII case; a query it cannot decode is a 400, never a 500.
   */
  private static MultiMap parameters(HttpServerRequest req) {
    String raw = req.query();
    if (raw != null) {
      for (int i = 0; i < raw.length(); i++) {
        if (raw.charAt(i) > 0x7E) {
          throw ApiError.of(400, "malformed_query", "The query string must be ASCII: percent-encode other characters "
              + "as UTF-8 (%C3%A9 for \u00e9)");
        }
      }
    }
    try {
      return req.params();
    } catch (IllegalArgumentException e) {
      throw ApiError.of(400, "malformed_query", "The query string is not valid percent-encoding: " + e.getMessage());
    }
  }

  /**
   * Every value of every parameter the handler reads must be storable text and valid UTF-8. Invalid
   * UTF-8 is decoded to U+FFFD, which is therefore refused: two different invalid values would otherwise
   * become one stored value (and one externalId).
   */
  static void checkValues(MultiMap params) {
    for (String name : SIGNED_NAMES) {
      for (String value : params.getAll(name)) {
        String problem = StorableText.problem(value);
        if (problem == null && value.indexOf(StorableText.REPLACEMENT) >= 0) {
          problem = "is not valid UTF-8 (or holds U+FFFD)";
        }
        if (problem != null) {
          throw ApiError.invalidField(name, name + " " + problem);
        }
      }
    }
  }

  private void authenticate(Surface surface, String token, MultiMap params) {
    signed.verifier().checkGetCredentials(surface, token, name -> single(params, name),
        () -> CanonicalQuery.of(params, SIGNED_NAMES).getBytes(StandardCharsets.UTF_8), Instant.now());
  }

  /** The one value of a credential parameter, or null; given twice it is refused (never a choice between two). */
  private static String single(MultiMap params, String name) {
    List<String> values = params.getAll(name);
    if (values.size() > 1) {
      throw ApiError.of(400, "duplicate_parameter", name + " is given " + values.size() + " times");
    }
    return values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
  }

  static ConversionDraft draft(MultiMap params) {
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
      String mapped = STATUSES.get(status.toLowerCase(Locale.ROOT));
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
        return StorableText.clean(v, ConversionDraft.MAX_EXTERNAL_ID);
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

  /** "49.99" USD → 4999; "500" JPY → 500: decimal major units to minor units of the currency, within the bound. */
  static long minorUnits(String amount, String currency) {
    if (!DECIMAL.matcher(amount).matches()) {
      throw ApiError.invalidField("amount", amount.startsWith("-") ? "amount must not be negative"
          : "amount must be a decimal number in major units, such as 49.99");
    }
    // An unknown currency is refused by validation itself.
    int digits = MinorUnits.exponent(currency);
    BigDecimal minor = new BigDecimal(amount).movePointRight(digits).stripTrailingZeros();
    if (minor.scale() > 0) {
      throw ApiError.invalidField("amount", "amount has more decimals than " + (currency == null ? "the currency" : currency)
          + " allows (" + digits + ")");
    }
    if (minor.compareTo(BigDecimal.valueOf(ConversionDraft.MAX_GROSS_MINOR)) > 0) {
      throw ApiError.invalidField("amount", "amount must be at most " + ConversionDraft.MAX_GROSS_MINOR
          + " minor units of the currency");
    }
    return minor.longValueExact();
  }
}
