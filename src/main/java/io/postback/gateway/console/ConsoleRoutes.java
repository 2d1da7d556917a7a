package io.postback.gateway.console;

import io.postback.gateway.http.AdminJson;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.ext.web.handler.CSPHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.XFrameHandler;
import org.webjars.WebJarVersionLocator;

/**
 * The operator console ({@code /console}) and the integrator portal page ({@code /portal}): plain HTML, CSS
 * and ES modules from the jar, uPlot from its WebJar, so {@code mvn package} is the whole build. The pages
 * are public; every byte of data comes from the admin or portal API with a bearer token the page holds in
 * session storage. A strict policy keeps script and style to these files: no inline code, no framing.
 */
public final class ConsoleRoutes {
  private static final String UPLOT = "uplot";

  private final OverviewHistory overview;

  public ConsoleRoutes(OverviewHistory overview) {
    this.overview = overview;
  }

  /** The pages and their assets, on the gateway's main router. */
  public void mount(Router router) {
    CSPHandler csp = CSPHandler.create()
        .addDirective("default-src", "'self'")
        .addDirective("script-src", "'self'")
        .addDirective("style-src", "'self'")
        .addDirective("img-src", "'self'")
        .addDirective("connect-src", "'self'")
        .addDirective("base-uri", "'none'")
        .addDirective("form-action", "'self'")
        .addDirective("frame-ancestors", "'none'");
    XFrameHandler frames = XFrameHandler.create(XFrameHandler.DENY);
    for (String page : new String[] {"console", "portal"}) {
      // Relative asset paths need the trailing slash; the router also matches "/console/" here.
      router.get("/" + page).handler(ctx -> {
        if (ctx.request().path().endsWith("/")) {
          ctx.next();
        } else {
          ctx.redirect("/" + page + "/");
        }
      });
      router.route("/" + page + "/*").handler(csp).handler(frames).handler(ConsoleRoutes::noSniff);
    }
    String uplot = new WebJarVersionLocator().version(UPLOT);
    router.get("/console/lib/uplot/*").handler(files("META-INF/resources/webjars/uplot/" + uplot + "/dist"));
    router.get("/console/*").handler(files("console"));
    router.get("/portal/*").handler(files("portal"));
  }

  /** {@code GET /admin/overview}: this instance's last hour (see {@link OverviewHistory}). */
  public void mount(RouterBuilder api) {
    AdminJson.mount(api, "getOverview", 200, this::overview);
  }

  private Future<JsonObject> overview(RoutingContext ctx) {
    return Future.succeededFuture(overview.toJson());
  }

  /** Revalidated on every load (a few small files), so an upgraded gateway never runs yesterday's modules. */
  private static StaticHandler files(String root) {
    return StaticHandler.create(root).setCachingEnabled(false);
  }

  private static void noSniff(RoutingContext ctx) {
    ctx.response().putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }
}
