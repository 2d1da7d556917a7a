package io.postback.gateway.admin;

import io.postback.gateway.http.AdminJson;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.program.ProgramStore;
import io.postback.gateway.program.TrackingLink;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * {@code /admin/links}: a tracking link of an affiliate on a surface to a destination URL, with an
 * optional custom code and an optional promo code; answers the code and the tracking URL.
 */
public final class LinkAdmin {
  private static final Pattern CODE = Pattern.compile("[A-Za-z0-9_-]{3,64}");
  private static final Pattern PROMO = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final ProgramStore store;
  private final ProgramCatalog catalog;
  private final SurfaceRegistry surfaces;

  public LinkAdmin(ProgramStore store, ProgramCatalog catalog, SurfaceRegistry surfaces) {
    this.store = store;
    this.catalog = catalog;
    this.surfaces = surfaces;
  }

  public void mount(Router admin) {
    admin.post("/links").handler(ctx -> AdminJson.respond(ctx, 201, this::create));
    admin.get("/links").handler(ctx -> AdminJson.respond(ctx, 200, this::list));
    admin.get("/links/:code").handler(ctx -> AdminJson.respond(ctx, 200, this::get));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = AdminJson.body(ctx);
    String surfaceId = AdminJson.requiredString(body, "surfaceId", 64);
    String affiliateId = AdminJson.requiredString(body, "affiliateId", 64);
    String destination = destination(AdminJson.requiredString(body, "destinationUrl", 2_000));
    String code = AdminJson.optionalString(body, "code", 64);
    if (code != null && !CODE.matcher(code).matches()) {
      throw ApiError.invalidField("code", "code may hold 3 to 64 letters, digits, '_' and '-'");
    }
    String promoCode = AdminJson.optionalString(body, "promoCode", 64);
    if (promoCode != null && !PROMO.matcher(promoCode).matches()) {
      throw ApiError.invalidField("promoCode", "promoCode may hold letters, digits, '_' and '-' (at most 64)");
    }
    String linkCode = code != null ? code : Ids.secret("", 6);
    return surfaces.find(surfaceId)
        .compose(surface -> {
          if (surface == null) {
            throw ApiError.invalidField("surfaceId", "No surface with id " + surfaceId);
          }
          return store.findAffiliate(affiliateId);
        })
        .compose(affiliate -> {
          if (affiliate == null) {
            throw ApiError.invalidField("affiliateId", "No affiliate with id " + affiliateId);
          }
          catalog.put(affiliate);
          return store.insertLink(linkCode, surfaceId, affiliateId, destination, promoCode);
        })
        .map(link -> {
          if (link == null) {
            throw ApiError.of(409, "conflict", "The link code " + linkCode
                + (promoCode == null ? "" : " or the promo code " + promoCode + " on this surface") + " is taken");
          }
          catalog.put(link);
          return link.toJson().put("trackingUrl", trackingUrl(ctx, link.code()));
        });
  }

  /** {@code GET /admin/links?surfaceId=&affiliateId=&limit=&cursor=}: ordered by code. */
  private Future<JsonObject> list(RoutingContext ctx) {
    int limit = AdminJson.limit(ctx);
    return store.linksPage(AdminJson.query(ctx, "surfaceId", 64), AdminJson.query(ctx, "affiliateId", 64),
            AdminJson.query(ctx, "cursor", 64), limit)
        .map(page -> AdminJson.page(page, limit,
            link -> link.toJson().put("trackingUrl", trackingUrl(ctx, link.code())), TrackingLink::code));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    return store.findLink(ctx.pathParam("code")).map(link -> {
      if (link == null) {
        throw ApiError.notFound("Link " + ctx.pathParam("code"));
      }
      return link.toJson().put("trackingUrl", trackingUrl(ctx, link.code()));
    });
  }

  private static String trackingUrl(RoutingContext ctx, String code) {
    String host = ctx.request().getHeader(HttpHeaders.HOST);
    return (host == null ? "" : ctx.request().scheme() + "://" + host) + "/c/" + code;
  }

  private static String destination(String url) {
    try {
      URI uri = new URI(url);
      if (uri.getHost() != null && ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
        return url;
      }
    } catch (URISyntaxException e) {
      // answered below
    }
    throw ApiError.invalidField("destinationUrl", "destinationUrl must be an absolute http(s) URL");
  }
}
