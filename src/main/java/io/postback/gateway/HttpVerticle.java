package io.postback.gateway;

import io.postback.gateway.admin.AdminGate;
import io.postback.gateway.admin.AffiliateAdmin;
import io.postback.gateway.admin.AffiliatePostbackAdmin;
import io.postback.gateway.admin.CommissionRuleAdmin;
import io.postback.gateway.admin.ConversionAdmin;
import io.postback.gateway.admin.DeliveryAdmin;
import io.postback.gateway.admin.LinkAdmin;
import io.postback.gateway.admin.PayoutAdmin;
import io.postback.gateway.admin.PostbackLogAdmin;
import io.postback.gateway.admin.ProviderAdmin;
import io.postback.gateway.admin.SurfaceAdmin;
import io.postback.gateway.admin.WebhookEndpointAdmin;
import io.postback.gateway.attribution.CustomerReferrals;
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
import io.postback.gateway.http.ApiDocs;
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
import io.postback.gateway.limit.SharedRateLimit;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.ops.AccessLog;
import io.postback.gateway.ops.HealthRoutes;
import io.postback.gateway.ops.MetricsEndpoint;
import io.postback.gateway.portal.PortalGate;
import io.postback.gateway.portal.PortalLinkAdmin;
import io.postback.gateway.portal.PortalRoutes;
import io.postback.gateway.portal.PortalTokens;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.program.ProgramStore;
import io.postback.gateway.provider.ProviderRoutes;
import io.postback.gateway.provider.ProviderStore;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.report.ReportRoutes;
import io.postback.gateway.store.ApprovalWriter;
import io.postback.gateway.store.ConversionWriter;
import io.postback.gateway.store.ReadReplica;
import io.postback.gateway.store.RefundWriter;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.surface.SurfaceStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

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
  private final SharedRateLimit rateLimit;
  private final ClickLimits clickLimits;
  private final OpenAPIContract guardedContract;
  private final ApiDocs docs;
  private final Console console;
  private final Consumer<Router> routes;
  private Pool pool;
  private ReadReplica reads;
  private RedisChannel redis;
  private HttpServer server;

  public HttpVerticle(GatewayConfig config, Backends backends, SurfaceRegistry surfaces, ProgramCatalog catalog,
                      SharedRateLimit rateLimit, ClickLimits clickLimits, GatewayMetrics metrics,
                      OpenAPIContract guardedContract, ApiDocs docs, Console console, Consumer<Router> routes) {
    this.config = config;
    this.backends = backends;
    this.surfaces = surfaces;
    this.catalog = catalog;
    this.rateLimit = rateLimit;
    this.clickLimits = clickLimits;
    this.metrics = metrics;
    this.guardedContract = guardedContract;
    this.docs = docs;
    this.console = console;
    this.routes = routes;
  }

  /** What the operator console and the integrator portal share across verticles: one hour of samples, one key. */
  public record Console(OverviewHistory overview, PortalTokens portalTokens) {
  }

  @Override
  public Future<?> start() {
    GatewayConfig.WaitLimits waits = config.waits();
    int instance = INSTANCES.getAndIncrement();
    pool = PgBuilder.pool()
        .with(boundedPool(config).setMaxSize(config.pgPoolSize()).setName("postgres-http-" + instance))
        .connectingTo(new PostgresUrl(backends.pgUrl()).connectOptions().setPipeliningLimit(256))
        .using(vertx)
        .build();
    reads = ReadReplica.create(vertx, config.pgReadUrl(), pool, 2, "postgres-read-http-" + instance, metrics);
    redis = new RedisChannel(vertx, backends.redisUrl(), config.redisTimeout(), metrics);

    DedupeFilter dedupe = new DedupeFilter(redis, metrics, config.dedupeTtl());
    DeliveryQueue deliveryQueue = new DeliveryQueue(redis, config.delivery().queuePartitions());
    ConversionWriter writer = new ConversionWriter(pool, deliveryQueue, context, waits.writeBatchesInFlight(),
        waits.writeQueueLimit(), waits.conversionRegroup(), metrics);
    ClickLookup clicks = new ClickLookup(redis, pool, metrics, config.clickCacheTtl());
    ConversionPipeline pipeline = new ConversionPipeline(dedupe,
        new RuleAttributor(catalog, clicks, new CustomerReferrals(pool)), writer,
        new RefundWriter(pool), new ApprovalWriter(pool), metrics);

    // The admin and portal APIs are mounted from the OpenAPI document: the router builder validates each of
    // their requests against it before the handler runs. Root handlers run for every route, the hand-written
    // ones too; each gate looks at its own paths only.
    RouterBuilder api = RouterBuilder.create(vertx, guardedContract, AdminGate.requests());
    api.rootHandler(new ClientAddress(config.edge().trustedProxies()));
    api.rootHandler(new AccessLog());
    api.rootHandler(new RequestDeadline(vertx, waits.requestDeadline()));
    api.rootHandler(new AdminGate(backends.adminToken(), config.bodyLimitBytes()));
    api.rootHandler(new PortalGate(console.portalTokens(), config.bodyLimitBytes()));
    PostbackLog postbackLog = new PostbackLog(redis, metrics);
    SurfaceGuard guard = new SurfaceGuard(redis, rateLimit);
    ProviderStore providers = new ProviderStore(pool);
    ConsoleRoutes consoleRoutes = new ConsoleRoutes(console.overview());
    mountAdmin(api, postbackLog, providers, consoleRoutes, deliveryQueue);
    List<String> unmounted = api.getRoutes().stream().filter(r -> r.getHandlers().isEmpty())
        .map(r -> r.getOperation().getOperationId()).toList();
    if (!unmounted.isEmpty()) {
      return Future.failedFuture(new IllegalStateException("Documented but not mounted: " + unmounted));
    }
    Router router = api.createRouter();

    // The hand-written routes: the ingest and click hot paths, health, metrics, the document itself.
    IngestRoutes signed = new IngestRoutes(surfaces, pipeline, metrics, guard, postbackLog, config.timestampTolerance(),
        config.bodyLimitBytes(), config.ingest().refundBackdateLimit());
    signed.mount(router);
    new BatchRoutes(signed, pipeline, guard, config.batchBodyLimitBytes()).mount(router);
    new ClassicPostbackRoutes(surfaces, pipeline, signed, guard).mount(router);
    new ProviderRoutes(surfaces, providers, pipeline, guard, metrics, postbackLog, config.bodyLimitBytes(),
        config.ingest().refundBackdateLimit()).mount(router);
    ClickWriter clickWriter = new ClickWriter(pool, clicks, context, waits.writeBatchesInFlight(),
        waits.writeQueueLimit(), metrics);
    new ClickRoutes(catalog, surfaces, clickWriter, metrics, clickLimits).mount(router);
    new HealthRoutes(pool, redis, metrics).mount(router);
    if (config.edge().managementPort() == 0) {
      new MetricsEndpoint(vertx, metrics).mount(router);
    }
    docs.mount(router);
    consoleRoutes.mount(router);

    router.route().failureHandler(ErrorResponder::handle);
    // The router itself answers 400 for a path it cannot decode (a broken %-escape): JSON like every
    // other error, and no ERROR line per hostile request.
    router.errorHandler(400, ctx -> ErrorResponder.send(ctx, ApiError.of(400, "malformed_request",
        "The request path cannot be decoded (a broken percent-escape)")));
    router.errorHandler(404, ErrorResponder::handle);
    router.errorHandler(405, ErrorResponder::handle);
    routes.accept(router);
    return listen(router, waits);
  }

  private void mountAdmin(RouterBuilder api, PostbackLog postbackLog, ProviderStore providers,
                          ConsoleRoutes consoleRoutes, DeliveryQueue deliveryQueue) {
    new SurfaceAdmin(new SurfaceStore(pool), surfaces, config.secretGracePeriod()).mount(api);
    new ProviderAdmin(providers, surfaces, config.secretGracePeriod()).mount(api);
    new ConversionAdmin(pool, reads).mount(api);
    ProgramStore program = new ProgramStore(pool);
    new AffiliateAdmin(program, catalog, pool).mount(api);
    new LinkAdmin(program, catalog, surfaces).mount(api);
    new CommissionRuleAdmin(program, catalog).mount(api);
    PostbackLogAdmin postbackLogAdmin = new PostbackLogAdmin(postbackLog);
    postbackLogAdmin.mount(api);
    DestinationGuard destinations = new DestinationGuard(vertx, config.allowPrivateDestinations());
    WebhookEndpointAdmin endpoints = new WebhookEndpointAdmin(pool, deliveryQueue, destinations,
        config.secretGracePeriod());
    endpoints.mount(api);
    AffiliatePostbackAdmin postbacks = new AffiliatePostbackAdmin(pool, deliveryQueue, destinations);
    postbacks.mount(api);
    DeliveryAdmin deliveries = new DeliveryAdmin(pool, reads, deliveryQueue);
    deliveries.mount(api);
    new PayoutAdmin(pool, reads).mount(api);
    // Reports export attributed conversions: the admin bearer token guards them too.
    new ReportRoutes(pool).mount(api);
    consoleRoutes.mount(api);
    new PortalLinkAdmin(pool, console.portalTokens()).mount(api);
    // The integrator portal: the same endpoint, delivery and log handlers, behind its scope checks.
    new PortalRoutes(pool, endpoints, deliveries, postbackLogAdmin, postbacks).mount(api);
  }

  private Future<HttpServer> listen(Router router, GatewayConfig.WaitLimits waits) {
    server = vertx.createHttpServer(new HttpServerOptions()
        .setPort(config.httpPort())
        .setHost("0.0.0.0")
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        // No WebSockets are served: without these, every request and response also passes Netty's
        // WebSocket extension handler, which looks for an upgrade that never comes.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
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
    return (server == null ? Future.<Void>succeededFuture() : server.shutdown())
        .eventually(() -> pool.close())
        .eventually(() -> reads.close())
        .eventually(() -> {
          redis.close();
          return Future.succeededFuture();
        });
  }
}
