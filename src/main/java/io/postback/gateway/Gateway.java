package io.postback.gateway;

import io.postback.gateway.click.ClickLimits;
import io.postback.gateway.config.Backends;
import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.console.OverviewHistory;
import io.postback.gateway.delivery.DeliveryVerticle;
import io.postback.gateway.http.ApiContract;
import io.postback.gateway.http.ApiDocs;
import io.postback.gateway.limit.SharedRateLimit;
import io.postback.gateway.limit.UnknownIdLookups;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.metrics.VertxMeters;
import io.postback.gateway.ops.ManagementVerticle;
import io.postback.gateway.portal.PortalTokens;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.program.ProgramStore;
import io.postback.gateway.report.ReportVerticle;
import io.postback.gateway.store.Migrations;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.surface.SurfaceStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The running gateway: one Vert.x instance with its metrics, the migrated schema, the shared surface
 * registry and program catalog (affiliates, links, rules), and its verticles: the periodic work
 * ({@link MaintenanceVerticle}), the HTTP verticles (one per event loop), the management port, the
 * delivery verticles and report generation. Used by {@link Main} and by the tests.
 */
public final class Gateway {
  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  private final Vertx vertx;
  private final GatewayConfig config;
  private final Backends backends;
  private final GatewayMetrics metrics;
  private final Pool controlPool;
  private final SurfaceRegistry surfaces;
  private final ProgramCatalog catalog;
  private final AtomicReference<Router> publicRouter = new AtomicReference<>();

  private Gateway(Vertx vertx, GatewayConfig config, Backends backends, GatewayMetrics metrics, Pool controlPool,
                  SurfaceRegistry surfaces, ProgramCatalog catalog) {
    this.vertx = vertx;
    this.config = config;
    this.backends = backends;
    this.metrics = metrics;
    this.controlPool = controlPool;
    this.surfaces = surfaces;
    this.catalog = catalog;
  }

  public static Future<Gateway> start(GatewayConfig config, Backends backends) {
    GatewayMetrics metrics = new GatewayMetrics();
    int eventLoops = config.httpInstances() > 0 ? config.httpInstances() : Runtime.getRuntime().availableProcessors();
    VertxOptions options = new VertxOptions().setEventLoopPoolSize(eventLoops).setPreferNativeTransport(true);
    if (config.metricsEnabled()) {
      options.setMetricsOptions(new MicrometerMetricsOptions()
          .setEnabled(true)
          .setJvmMetricsEnabled(true)
          // Outbound webhooks have their own meters (gateway.delivery.*); per-request client meters
          // would cost every delivery a tagged timer lookup for nothing the dashboard shows.
          .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
          // The HTTP server's meters are the gateway's own (VertxMeters), labelled by route template.
          .addLabels(Label.POOL_TYPE, Label.POOL_NAME));
      if (config.edge().proxyProtocol()) {
        // Vert.x 5.0.10 builds its HTTP server on a NetSocket whose metrics hook reads (and so consumes)
        // the PROXY header's address before the HTTP connection does, which then sees the balancer's
        // address. Without HTTP server meters the address is right; client addresses matter more.
        ((MicrometerMetricsOptions) options.getMetricsOptions()).addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER);
        LOG.warn("proxyProtocol is on: the vertx_http_server_* meters are off (a Vert.x 5.0.10 limitation)");
      }
    }
    VertxBuilder builder = Vertx.builder().with(options);
    if (config.metricsEnabled()) {
      builder.withMetrics(new VertxMeters(metrics.registry()));
    }
    Vertx vertx = builder.build();
    PostgresUrl pgUrl = new PostgresUrl(backends.pgUrl());
    Pool controlPool = PgBuilder.pool()
        .with(HttpVerticle.boundedPool(config).setMaxSize(2).setName("postgres-control"))
        .connectingTo(pgUrl.connectOptions())
        .using(vertx)
        .build();
    int lookups = config.edge().unknownIdLookupsPerSecond();
    SurfaceRegistry surfaces = new SurfaceRegistry(new SurfaceStore(controlPool),
        new UnknownIdLookups("surface", lookups, metrics));
    ProgramCatalog catalog = new ProgramCatalog(new ProgramStore(controlPool),
        new UnknownIdLookups("link", lookups, metrics));
    // Surface rate limits live in Redis; the instance's local shares (Redis down) are shared by its verticles.
    SharedRateLimit rateLimit = new SharedRateLimit(config.edge().expectedInstances(), metrics);
    ClickLimits clickLimits = new ClickLimits(config.edge());
    Gateway gateway = new Gateway(vertx, config, backends, metrics, controlPool, surfaces, catalog);
    ApiContract contract = ApiContract.load();
    ApiDocs docs = ApiDocs.load(contract);

    return vertx.executeBlocking(() -> Migrations.migrate(pgUrl))
        .compose(migrated -> {
          if (migrated > 0) {
            LOG.info("applied {} schema migration(s)", migrated);
          }
          return Future.all(surfaces.refresh(), catalog.refresh(), PortalTokens.load(controlPool));
        })
        .compose(loaded -> {
          PortalTokens portalTokens = loaded.resultAt(2);
          OverviewHistory overview = new OverviewHistory(metrics, OverviewHistory.INTERVAL);
          return vertx.deployVerticle(new MaintenanceVerticle(config, backends, metrics, surfaces, catalog, controlPool,
                  overview))
              // The contract's token-guarded operations are checked and resolved once; every HTTP verticle mounts from it.
              .compose(deployment -> OpenAPIContract.from(vertx, contract.guardedOperations()))
              .compose(guardedContract -> vertx.deployVerticle(
                  () -> new HttpVerticle(config, backends, surfaces, catalog, rateLimit, clickLimits, metrics,
                      guardedContract, docs, new HttpVerticle.Console(overview, portalTokens), gateway::publicRouter),
                  new DeploymentOptions().setInstances(eventLoops)));
        })
        .compose(deployment -> config.edge().managementPort() == 0 ? Future.succeededFuture()
            : vertx.deployVerticle(new ManagementVerticle(config.edge().managementPort(), metrics)))
        .compose(deployment -> deployDelivery(vertx, config, backends, metrics))
        .compose(deployment -> vertx.deployVerticle(new ReportVerticle(config, backends, metrics)))
        .map(deployment -> {
          LOG.info("gateway listening on port {} with {} HTTP verticle(s) and {} delivery verticle(s), {} transport",
              config.httpPort(), eventLoops, config.delivery().instances(),
              vertx.isNativeTransportEnabled() ? "native" : "NIO");
          return gateway;
        })
        .recover(e -> vertx.close().transform(ignored -> Future.failedFuture(e)));
  }

  /**
   * The delivery verticles, each on its own event loop. At close each one stops claiming, lets its
   * in-flight sends finish (bounded) and hands back the rest (see DeliveryVerticle#stop).
   */
  private static Future<Void> deployDelivery(Vertx vertx, GatewayConfig config, Backends backends,
                                             GatewayMetrics metrics) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < config.delivery().instances(); i++) {
      chain = chain.compose(v -> vertx.deployVerticle(new DeliveryVerticle(config, backends, metrics)).mapEmpty());
    }
    return chain;
  }

  public Vertx vertx() {
    return vertx;
  }

  public GatewayConfig config() {
    return config;
  }

  public Backends backends() {
    return backends;
  }

  public GatewayMetrics metrics() {
    return metrics;
  }

  public SurfaceRegistry surfaces() {
    return surfaces;
  }

  public ProgramCatalog catalog() {
    return catalog;
  }

  public Pool controlPool() {
    return controlPool;
  }

  /** The routes of the public port (every HTTP verticle mounts the same), e.g. to check them against the document. */
  public List<Route> publicRoutes() {
    Router router = publicRouter.get();
    return router == null ? List.of() : router.getRoutes();
  }

  private void publicRouter(Router router) {
    publicRouter.compareAndSet(null, router);
  }

  /** Stops accepting, lets in-flight requests finish, closes pools. */
  public Future<Void> close() {
    LOG.info("gateway stopping: no new connections; in-flight requests and deliveries finish");
    return vertx.close().onComplete(ar -> {
      if (ar.succeeded()) {
        LOG.info("gateway stopped");
      } else {
        LOG.warn("gateway stopped with a failure: {}", ar.cause().toString());
      }
    });
  }
}
