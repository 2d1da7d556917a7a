package io.postback.gateway;

import io.postback.gateway.admin.AdminAuth;
import io.postback.gateway.admin.AffiliateAdmin;
import io.postback.gateway.admin.CommissionRuleAdmin;
import io.postback.gateway.admin.ConversionAdmin;
import io.postback.gateway.admin.DeliveryAdmin;
import io.postback.gateway.admin.LinkAdmin;
import io.postback.gateway.admin.PayoutAdmin;
import io.postback.gateway.admin.PostbackLogAdmin;
import io.postback.gateway.admin.SurfaceAdmin;
import io.postback.gateway.admin.WebhookEndpointAdmin;
import io.postback.gateway.attribution.RuleAttributor;
import io.postback.gateway.click.ClickLimits;
import io.postback.gateway.click.ClickLookup;
import io.postback.gateway.click.ClickRoutes;
import io.postback.gateway.click.ClickWriter;
import io.postback.gateway.config.Backends;
import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.console.ConsoleRoutes;
import io.postback.gateway.console.OverviewHistory;
import io.postback.gateway.dedupe.DedupeFilter;
import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DestinationGuard;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ClientAddress;
import io.postback.gateway.http.ErrorResponder;
import io.postback.gateway.http.ReadDeadline;
import io.postback.gateway.http.RequestDeadline;
import io.postback.gateway.ingest.BatchRoutes;
import io.postback.gateway.ingest.ClassicPostbackRoutes;
import io.postback.gateway.ingest.ConversionPipeline;
import io.postback.gateway.ingest.IngestRoutes;
import io.postback.gateway.ingest.PostbackLog;
import io.postback.gateway.ingest.SurfaceGuard;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.ops.AccessLog;
import io.postback.gateway.ops.HealthRoutes;
import io.postback.gateway.ops.MetricsEndpoint;
import io.postback.gateway.portal.PortalLinkAdmin;
import io.postback.gateway.portal.PortalRoutes;
import io.postback.gateway.portal.PortalTokens;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.program.ProgramStore;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.report.ReportRoutes;
import io.postback.gateway.store.ApprovalWriter;
import io.postback.gateway.store.ConversionWriter;
import io.postback.gateway.store.RefundWriter;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.surface.SurfaceStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One instance per event loop. Everything a request needs is built here once: its own Postgres pool
 * and Redis connection (so callbacks stay on this event loop), the batching writer, the routes.
 */
public final class HttpVerticle extends VerticleBase {
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private final GatewayConfig config;
  private final Backends backends;
  private final SurfaceRegistry surfaces;
  private final ProgramCatalog catalog;
  private final GatewayMetrics metrics;
  private final SurfaceGuard guard;
  private final ClickLimits clickLimits;
  private final OverviewHistory overview;
  private final PortalTokens portalTokens;
  private Pool pool;
  private RedisChannel redis;
  private HttpServer server;

  public HttpVerticle(GatewayConfig config, Backends backends, SurfaceRegistry surfaces, ProgramCatalog catalog,
                      SurfaceGuard guard, ClickLimits clickLimits, GatewayMetrics metrics, OverviewHistory overview,
                      PortalTokens portalTokens) {
    this.config = config;
    this.backends = backends;
    this.surfaces = surfaces;
    this.catalog = catalog;
    this.guard = guard;
    this.clickLimits = clickLimits;
    this.metrics = metrics;
    this.overview = overview;
    this.portalTokens = portalTokens;
  }

  @Override
  public Future<?> start() {
    GatewayConfig.WaitLimits waits = config.waits();
    pool = PgBuilder.pool()
        .with(boundedPool(config).setMaxSize(config.pgPoolSize()).setName("postgres-http-" + INSTANCES.getAndIncrement()))
        .connectingTo(new PostgresUrl(backends.pgUrl()).connectOptions().setPipeliningLimit(256).setCachePreparedStatements(true))
        .using(vertx)
        .build();
    redis = new RedisChannel(vertx, backends.redisUrl(), config.redisTimeout(), metrics);

    DedupeFilter dedupe = new DedupeFilter(redis, metrics, config.dedupeTtl());
    ConversionWriter writer = new ConversionWriter(pool, context, config.pgPoolSize(), waits.writeQueueLimit());
    ClickLookup clicks = new ClickLookup(redis, pool, metrics, config.clickCacheTtl());
    ConversionPipeline pipeline = new ConversionPipeline(dedupe, new RuleAttributor(catalog, clicks), writer,
        new RefundWriter(pool), new ApprovalWriter(pool), metrics);

    Router router = Router.router(vertx);
    router.route().handler(new ClientAddress(config.edge().trustedProxies()));
    router.route().handler(new AccessLog());
    router.route().handler(new RequestDeadline(vertx, waits.requestDeadline()));
    PostbackLog postbackLog = new PostbackLog(redis, metrics);
    IngestRoutes signed = new IngestRoutes(surfaces, pipeline, metrics, guard, postbackLog, config.timestampTolerance(),
        config.bodyLimitBytes(), config.ingest().refundBackdateLimit());
    signed.mount(router);
    new BatchRoutes(signed, pipeline, guard, config.batchBodyLimitBytes()).mount(router);
    new ClassicPostbackRoutes(surfaces, pipeline, signed, guard).mount(router);
    new ClickRoutes(catalog, surfaces, new ClickWriter(pool, context, config.pgPoolSize(), waits.writeQueueLimit()), clicks,
        metrics, clickLimits).mount(router);
    new HealthRoutes(pool, redis, metrics).mount(router);
    if (config.edge().managementPort() == 0) {
      new MetricsEndpoint(vertx, metrics).mount(router);
    }

    Router admin = Router.router(vertx);
    admin.route().handler(new AdminAuth(backends.adminToken()));
    admin.route().handler(BodyHandler.create(false).setBodyLimit(config.bodyLimitBytes()));
    new SurfaceAdmin(new SurfaceStore(pool), surfaces, config.secretGracePeriod()).mount(admin);
    new ConversionAdmin(pool).mount(admin);
    ProgramStore program = new ProgramStore(pool);
    new AffiliateAdmin(program, catalog, pool).mount(admin);
    new LinkAdmin(program, catalog, surfaces).mount(admin);
    new CommissionRuleAdmin(program, catalog).mount(admin);
    PostbackLogAdmin postbackLogAdmin = new PostbackLogAdmin(postbackLog);
    postbackLogAdmin.mount(admin);
    DeliveryQueue deliveryQueue = new DeliveryQueue(redis);
    WebhookEndpointAdmin endpoints = new WebhookEndpointAdmin(pool, deliveryQueue,
        new DestinationGuard(vertx, config.allowPrivateDestinations()), config.secretGracePeriod());
    endpoints.mount(admin);
    DeliveryAdmin deliveries = new DeliveryAdmin(pool, deliveryQueue);
    deliveries.mount(admin);
    new PayoutAdmin(pool).mount(admin);
    ConsoleRoutes console = new ConsoleRoutes(overview);
    console.mountAdmin(admin);
    new PortalLinkAdmin(pool, portalTokens).mount(admin);
    router.route("/admin/*").subRouter(admin);

    // The integrator portal's API: a portal token only, and only its scope's endpoints, deliveries and log.
    new PortalRoutes(pool, portalTokens, endpoints, deliveries, postbackLogAdmin, config.bodyLimitBytes())
        .mount(router, Router.router(vertx));
    console.mount(router);

    // Reports export attributed conversions: the admin bearer token guards them too.
    Router reports = Router.router(vertx);
    reports.route().handler(new AdminAuth(backends.adminToken()));
    reports.route().handler(BodyHandler.create(false).setBodyLimit(config.bodyLimitBytes()));
    new ReportRoutes(pool).mount(reports);
    router.route("/v1/reports/*").subRouter(reports);

    router.route().failureHandler(ErrorResponder::handle);
    // The router itself answers 400 for a path it cannot decode (a broken %-escape): JSON like every
    // other error, and no ERROR line per hostile request.
    router.errorHandler(400, ctx -> ErrorResponder.send(ctx, ApiError.of(400, "malformed_request",
        "The request path cannot be decoded (a broken percent-escape)")));
    router.errorHandler(404, ErrorResponder::handle);
    router.errorHandler(405, ErrorResponder::handle);

    server = vertx.createHttpServer(new HttpServerOptions()
        .setPort(config.httpPort())
        .setHost("0.0.0.0")
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        .setIdleTimeout((int) waits.httpIdleTimeout().toMillis())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        // HTTP/1.1 only: the read deadline watches HTTP/1.x requests (cleartext HTTP/2 is not offered).
        .setHttp2ClearTextEnabled(false)
        .setUseProxyProtocol(config.edge().proxyProtocol()));
    return server
        .connectionHandler(connection -> ReadDeadline.install(connection, waits.httpReadTimeout()))
        .requestHandler(router)
        .listen();
  }

  /**
   * Pool options that bound waiting: at most {@code pgWaitQueueLimit} requests queue for a connection (more
   * fail at once, 503), and none waits much longer than the request deadline for one (a second longer, so
   * that a request's own deadline answers it first and the waiter then leaves the queue).
   */
  static PoolOptions boundedPool(GatewayConfig config) {
    return new PoolOptions()
        .setMaxWaitQueueSize(config.waits().pgWaitQueueLimit())
        .setConnectionTimeout((int) config.waits().requestDeadline().plusSeconds(1).toMillis())
        .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS);
  }

  @Override
  public Future<?> stop() {
    // Stop accepting first; in-flight requests finish on the open pool and Redis connection.
    return server.shutdown()
        .eventually(() -> pool.close())
        .eventually(() -> {
          redis.close();
          return Future.succeededFuture();
        });
  }
}
