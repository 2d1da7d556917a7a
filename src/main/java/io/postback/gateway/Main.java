package io.postback.gateway;

import ch.qos.logback.classic.LoggerContext;
import io.postback.gateway.config.Backends;
import io.postback.gateway.config.ConfigException;
import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.embedded.EmbeddedPostgresServer;
import io.postback.gateway.embedded.EmbeddedRedisServer;
import io.postback.gateway.ids.Ids;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar postback-gateway.jar}: reads the configuration, starts embedded Postgres and Redis
 * for whatever is not configured (data under {@code ./data}), starts the gateway, and in the
 * zero-configuration default prints a demo surface and a signed example postback.
 */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    GatewayConfig config;
    try {
      config = GatewayConfig.load(System.getenv());
      if (config.adminToken() == null && !config.embeddedPostgres()) {
        throw new ConfigException("GATEWAY_ADMIN_TOKEN is required when GATEWAY_PG_URL is set");
      }
    } catch (ConfigException e) {
      System.err.println("postback-gateway: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }

    List<AutoCloseable> embedded = new ArrayList<>();
    try {
      String pgUrl = config.pgUrl();
      if (pgUrl == null) {
        EmbeddedPostgresServer pg = new EmbeddedPostgresServer(config.dataDir().resolve("postgres")).start();
        embedded.add(pg);
        pgUrl = pg.url();
      }
      String redisUrl = config.redisUrl();
      if (redisUrl == null) {
        EmbeddedRedisServer redis = new EmbeddedRedisServer(config.dataDir().resolve("redis")).start();
        embedded.add(0, redis);
        redisUrl = redis.url();
      }
      String adminToken = config.adminToken() != null ? config.adminToken() : persistedAdminToken(config.dataDir());
      Backends backends = new Backends(pgUrl, redisUrl, adminToken);

      Gateway gateway = Gateway.start(config, backends).await(5, TimeUnit.MINUTES);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          gateway.close().await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          System.err.println("postback-gateway: shutdown: " + e);
        }
        closeAll(embedded);
        stopLogging();
      }, "gateway-shutdown"));

      if (config.embeddedPostgres() && config.demoSurface()) {
        DemoBanner.print(gateway);
      }
    } catch (Exception e) {
      System.err.println("postback-gateway: failed to start: " + e);
      closeAll(embedded);
      stopLogging();
      System.exit(1);
    }
  }

  /** The embedded default keeps its generated admin token under the data directory across restarts. */
  private static String persistedAdminToken(Path dataDir) throws IOException {
    Path file = dataDir.resolve("admin-token");
    if (Files.exists(file)) {
      return Files.readString(file).trim();
    }
    Files.createDirectories(dataDir);
    String token = Ids.secret("adm_", 24);
    Files.writeString(file, token + "\n");
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system; the token is still only in the data directory
    }
    return token;
  }

  /**
   * Drains the asynchronous log and flushes standard output. Called last, after the gateway has stopped:
   * logback's own shutdown hook would run beside ours and could drop the lines of the stop itself.
   */
  private static void stopLogging() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.stop();
    }
  }

  private static void closeAll(List<AutoCloseable> servers) {
    for (AutoCloseable s : servers) {
      try {
        s.close();
      } catch (Exception e) {
        System.err.println("postback-gateway: stopping embedded server: " + e);
      }
    }
  }
}
