package io.postback.gateway.click;

import io.postback.gateway.http.ClientAddress;
import io.postback.gateway.http.RequestDeadline;
import io.postback.gateway.http.RouteOrder;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.limit.TokenBucket;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.ops.PostgresProbe;
import io.postback.gateway.program.Affiliate;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.program.TrackingLink;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;

/**
 * {@code GET /c/{code}} (SPEC §4): records a click and redirects to the link's destination with
 * {@code clickId} appended. The second hot path: the link and affiliate come from memory, the click row
 * goes into the verticle's micro-batch and, with its batch, into Redis, and the 302 is sent only when the row has
 * committed, so a click id that ever reached a browser is durable and resolvable (Redis first,
 * Postgres behind it) by a conversion a millisecond later.
 *
 * <p>Every stored value from the visitor (sub1..sub5, User-Agent, Referer) is cleaned before it joins
 * the batch ({@link StorableText#clean}: what Postgres cannot store becomes U+FFFD, at most
 * {@value #MAX_FIELD} characters), never refused: a visitor's click is recorded whatever its query says.
 * (A query whose percent-encoding is broken, such as {@code %ZZ}, never reaches this route: the router
 * answers 400 before any handler runs, so no click exists to be lost.)
 *
 * <p>If Postgres cannot take the click, the visitor is still redirected, but without a click id: a
 * click that was not recorded is never named by a conversion, so no named click is ever lost. If it
 * has no answer within the request deadline (Postgres frozen), the visitor gets the "try again" page
 * with {@code 503}: the click may still be recorded later, but its id reaches no one.
 *
 * <p>Anyone may call it, so it is limited per client address and per link ({@link ClickLimits}); over a
 * limit the answer is 429 with Retry-After and a small page, and no click is recorded.
 */
public final class ClickRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(ClickRoutes.class);
  private static final int MAX_FIELD = 512;
  private static final String[] SUB_PARAMS = {"sub1", "sub2", "sub3", "sub4", "sub5"};
  private static final Buffer NOT_FOUND = Buffer.buffer(
      "<!doctype html><title>Link not found</title><h1>Link not found</h1><p>This tracking link does not exist.</p>");
  private static final Buffer UNAVAILABLE = Buffer.buffer(
      "<!doctype html><title>Try again</title><h1>Temporarily unavailable</h1><p>Please try again in a moment.</p>");
  private static final Buffer TOO_MANY = Buffer.buffer(
      "<!doctype html><title>Too many clicks</title><h1>Too many clicks</h1><p>Please try again in a moment.</p>");
  public static final String CLICK_ID_PARAM = "clickId";

  private final ProgramCatalog catalog;
  private final SurfaceRegistry surfaces;
  private final ClickWriter writer;
  private final GatewayMetrics metrics;
  private final ClickLimits limits;

  public ClickRoutes(ProgramCatalog catalog, SurfaceRegistry surfaces, ClickWriter writer, GatewayMetrics metrics,
                     ClickLimits limits) {
    this.catalog = catalog;
    this.surfaces = surfaces;
    this.writer = writer;
    this.metrics = metrics;
    this.limits = limits;
  }

  public void mount(Router router) {
    router.get("/c/:code").order(RouteOrder.HOT_PATH).handler(this::click);
  }

  private void click(RoutingContext ctx) {
    RequestDeadline.onExpiry(ctx, expired -> {
      metrics.click("unavailable");
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(expired.retryAfterSeconds()));
      html(ctx, 503, UNAVAILABLE);
    });
    String code = ctx.pathParam("code");
    String clientAddress = ClientAddress.of(ctx);
    long wait = limits.forAddress(clientAddress);
    if (wait > 0) {
      tooMany(ctx, wait);
      return;
    }
    catalog.link(code)
        .compose(link -> link == null ? Future.succeededFuture(null)
            : surfaces.find(link.surfaceId()).map(surface -> surface == null ? null : new Resolved(link, surface)))
        .onComplete(ar -> {
          if (RequestDeadline.answered(ctx)) {
            return;
          }
          if (ar.failed()) {
            LOG.warn("click on {} not served: {}", code, ar.cause().toString());
            metrics.click("unavailable");
            html(ctx, 503, UNAVAILABLE);
          } else if (ar.result() == null) {
            metrics.click("not_found");
            html(ctx, 404, NOT_FOUND);
          } else {
            long linkWait = limits.forLink(ar.result().link().code());
            if (linkWait > 0) {
              tooMany(ctx, linkWait);
            } else {
              record(ctx, clientAddress, ar.result().link(), ar.result().surface());
            }
          }
        });
  }

  private record Resolved(TrackingLink link, Surface surface) {
  }

  private void tooMany(RoutingContext ctx, long waitNanos) {
    metrics.click("rate_limited");
    ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(TokenBucket.retryAfterSeconds(waitNanos)));
    html(ctx, 429, TOO_MANY);
  }

  private void record(RoutingContext ctx, String clientAddress, TrackingLink link, Surface surface) {
    HttpServerRequest req = ctx.request();
    Affiliate affiliate = catalog.affiliate(link.affiliateId());
    boolean suspended = affiliate != null && Affiliate.SUSPENDED.equals(affiliate.status());
    String[] subs = new String[5];
    for (int i = 0; i < 5; i++) {
      subs[i] = storable(req.getParam(SUB_PARAMS[i]));
    }
    Click click = new Click(Ids.timeOrdered("ck"), link.code(), link.surfaceId(), link.affiliateId(), Instant.now(),
        clientAddress, storable(req.getHeader(HttpHeaders.USER_AGENT)),
        storable(req.getHeader(HttpHeaders.REFERER)), subs, suspended);
    writer.write(click, surface.attributionWindow()).onComplete(durable -> {
      if (RequestDeadline.answered(ctx)) {
        return;
      }
      String location;
      if (durable.succeeded()) {
        metrics.click(suspended ? "suspended" : "recorded");
        location = withClickId(link.destinationUrl(), click.id());
      } else {
        LOG.warn("click on {} not recorded, redirecting without click id: {}", link.code(), durable.cause().toString());
        PostgresProbe.failed(metrics, durable.cause());
        metrics.click("unrecorded");
        location = link.destinationUrl();
      }
      ctx.response()
          .setStatusCode(302)
          .putHeader(HttpHeaders.LOCATION, location)
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
          .end();
    });
  }

  /** Appends {@code clickId=<id>} to the URL's query, keeping an existing query and fragment. */
  static String withClickId(String url, String clickId) {
    int hash = url.indexOf('#');
    String base = hash < 0 ? url : url.substring(0, hash);
    String fragment = hash < 0 ? "" : url.substring(hash);
    String separator = base.indexOf('?') < 0 ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&";
    return base + separator + CLICK_ID_PARAM + '=' + clickId + fragment;
  }

  private static String storable(String value) {
    return value == null || value.isEmpty() ? null : StorableText.clean(value, MAX_FIELD);
  }

  private static void html(RoutingContext ctx, int status, Buffer page) {
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(page);
  }
}
