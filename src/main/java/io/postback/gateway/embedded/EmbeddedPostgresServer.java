package io.postback.gateway.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real Postgres 15 server from the binaries zonky ships through Maven, for the zero-configuration
 * default and for tests. Data stays in {@code dataDir}, so a stop/start (or a gateway restart) keeps it.
 * As root, zonky runs the server in a user namespace ({@code unshare -U}) because Postgres refuses root.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private final Path dataDir;
  private final int port;
  private EmbeddedPostgres server;

  public EmbeddedPostgresServer(Path dataDir) {
    this(dataDir, FreePort.find());
  }

  public EmbeddedPostgresServer(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.port = port;
  }

  public synchronized EmbeddedPostgresServer start() {
    if (server != null) {
      return this;
    }
    try {
      Files.createDirectories(dataDir);
      server = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir.toFile())
          .setCleanDataDirectory(false)
          .setPort(port)
          // zonky defaults to fsync=off for test speed; a 200 must mean durably committed.
          .setServerConfig("fsync", "on")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("max_connections", "200")
          .start();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded Postgres in " + dataDir, e);
    }
  }

  public synchronized void stop() {
    if (server == null) {
      return;
    }
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      server = null;
    }
  }

  public String url() {
    return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    stop();
  }
}
